//! What every aggregate's statements share: running a statement with the backend's errors in
//! the store's terms, and reading columns back into the model.

use sqlx::query::{Query, QueryAs};
use sqlx::{Database, Executor, FromRow, IntoArguments};

use super::{Error, Result};

/// A database authd stores in, as the aggregates' statements see it.
pub(super) trait Backend: Database {
    /// A driver error in the store's terms.
    fn error(err: sqlx::Error) -> Error;
    /// How many rows a statement changed.
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

/// Runs a statement that selects rows of `R`, each read into a model type.
pub(super) trait Fetch<'q, DB: Backend, R> {
    /// The one row; [`Error::NotFound`] if there is none.
    async fn one<'e, 'c: 'e, E, T>(self, executor: E) -> Result<T>
    where
        'q: 'e,
        R: 'e,
        E: 'e + Executor<'c, Database = DB>,
        T: TryFrom<R, Error = Error>;

    /// The row, if there is one.
    async fn optional<'e, 'c: 'e, E, T>(self, executor: E) -> Result<Option<T>>
    where
        'q: 'e,
        R: 'e,
        E: 'e + Executor<'c, Database = DB>,
        T: TryFrom<R, Error = Error>;

    /// Every row.
    async fn all<'e, 'c: 'e, E, T>(self, executor: E) -> Result<Vec<T>>
    where
        'q: 'e,
        R: 'e,
        E: 'e + Executor<'c, Database = DB>,
        T: TryFrom<R, Error = Error>;
}

impl<'q, DB, R, A> Fetch<'q, DB, R> for QueryAs<'q, DB, R, A>
where
    DB: Backend,
    A: 'q + IntoArguments<'q, DB>,
    R: Send + Unpin + for<'r> FromRow<'r, DB::Row>,
{
    async fn one<'e, 'c: 'e, E, T>(self, executor: E) -> Result<T>
    where
        'q: 'e,
        R: 'e,
        E: 'e + Executor<'c, Database = DB>,
        T: TryFrom<R, Error = Error>,
    {
        self.optional(executor).await?.ok_or(Error::NotFound)
    }

    async fn optional<'e, 'c: 'e, E, T>(self, executor: E) -> Result<Option<T>>
    where
        'q: 'e,
        R: 'e,
        E: 'e + Executor<'c, Database = DB>,
        T: TryFrom<R, Error = Error>,
    {
        self.fetch_optional(executor)
            .await
            .map_err(DB::error)?
            .map(T::try_from)
            .transpose()
    }

    async fn all<'e, 'c: 'e, E, T>(self, executor: E) -> Result<Vec<T>>
    where
        'q: 'e,
        R: 'e,
        E: 'e + Executor<'c, Database = DB>,
        T: TryFrom<R, Error = Error>,
    {
        self.fetch_all(executor)
            .await
            .map_err(DB::error)?
            .into_iter()
            .map(T::try_from)
            .collect()
    }
}

/// Runs a statement that changes rows.
pub(super) trait Run<'q, DB: Backend> {
    /// How many rows it changed.
    async fn run<'e, 'c: 'e, E>(self, executor: E) -> Result<u64>
    where
        'q: 'e,
        E: 'e + Executor<'c, Database = DB>;
}

impl<'q, DB, A> Run<'q, DB> for Query<'q, DB, A>
where
    DB: Backend,
    A: 'q + IntoArguments<'q, DB>,
{
    async fn run<'e, 'c: 'e, E>(self, executor: E) -> Result<u64>
    where
        'q: 'e,
        E: 'e + Executor<'c, Database = DB>,
    {
        let result = self.execute(executor).await.map_err(DB::error)?;
        Ok(DB::rows_affected(&result))
    }
}

/// [`Error::NotFound`] if a statement that must change a row changed none.
pub(super) fn found(rows_affected: u64) -> Result<()> {
    if rows_affected == 0 {
        Err(Error::NotFound)
    } else {
        Ok(())
    }
}

/// JSON text for a column stored as JSON.
pub(super) fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// A list stored as JSON text.
pub(super) fn json_list<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>> {
    serde_json::from_str(text).map_err(Error::corrupt)
}

/// A value stored as text in its `FromStr` form (enums, algorithms).
pub(super) fn parse<T: std::str::FromStr>(text: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(Error::corrupt)
}

/// An id stored as text.
pub(super) fn parse_id<T: TryFrom<String, Error = crate::model::InvalidId>>(
    text: String,
) -> Result<T> {
    T::try_from(text).map_err(Error::corrupt)
}

/// [`Error::NotFound`] for a row that names one that is not there (a foreign key violation:
/// the user or group went meanwhile); any other error as it is.
pub(super) fn missing_reference(err: Error) -> Error {
    match &err {
        Error::Database(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            Error::NotFound
        }
        _ => err,
    }
}
