//! A signed-in user's access to the server: sign-in, who the user is, and the back-office calls
//! only the server can answer (the review queue of suspected duplicates and the merge). The
//! access token is refreshed once when the server says it has expired.

use crate::{check, http, SyncError};
use chrono::{DateTime, Utc};
use pos_core::{Action, Role};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use uuid::Uuid;

#[derive(Clone, Serialize, Deserialize)]
struct TokenPair {
    access: String,
    refresh: String,
}

impl std::fmt::Debug for TokenPair {
    /// Never the tokens themselves: they would grant the session to whoever reads a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenPair { .. }")
    }
}

/// The signed-in user as the server knows them (`GET /api/v1/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub organization_id: Uuid,
    pub role: Role,
    pub actions: Vec<Action>,
}

/// One side of a review item, as the server shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewCustomer {
    pub id: Uuid,
    pub name: String,
    pub surname: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub identification: Option<String>,
    pub passport_number: Option<String>,
    pub city: Option<String>,
    pub source: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

/// Two customers that may be the same person, and the key they share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub id: Uuid,
    pub match_key: String,
    pub created_at: String,
    pub customer_a: Option<ReviewCustomer>,
    pub customer_b: Option<ReviewCustomer>,
}

#[derive(Debug, Deserialize)]
struct ReviewItems {
    results: Vec<ReviewItem>,
}

/// What an explicit merge did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merged {
    pub survivor: ReviewCustomer,
    pub sales_repointed: u64,
}

/// A user's session with one server.
#[derive(Debug)]
pub struct UserClient {
    http: reqwest::Client,
    base: String,
    tokens: Mutex<TokenPair>,
    /// One refresh at a time: two requests that both find the token expired must not both
    /// spend the refresh token (the server takes a reused one as theft and revokes the family).
    refreshing: tokio::sync::Mutex<()>,
}

/// The body of a successful answer; one that does not parse is the server's fault, not the
/// network's, so it is not retried as if the server were unreachable.
async fn answer<T: DeserializeOwned>(res: reqwest::Response) -> Result<T, SyncError> {
    let res = check(res).await?;
    let status = res.status().as_u16();
    let text = res.text().await?;
    serde_json::from_str(&text).map_err(|e| SyncError::Server { status, body: format!("unreadable answer: {e}") })
}

impl UserClient {
    /// Signs in with a username and password (`POST /api/token/`). A wrong password is
    /// [`SyncError::Unauthorized`]; an unreachable server is [`SyncError::Network`].
    pub async fn sign_in(base: &str, username: &str, password: &str) -> Result<(Self, Me), SyncError> {
        let http = http();
        let base = base.trim_end_matches('/').to_owned();
        let body = serde_json::json!({ "username": username, "password": password });
        let res = http.post(format!("{base}/api/token/")).json(&body).send().await?;
        let tokens: TokenPair = answer(res).await?;
        let client = Self { http, base, tokens: Mutex::new(tokens), refreshing: tokio::sync::Mutex::new(()) };
        let me = client.get("/api/v1/me").await?;
        Ok((client, me))
    }

    fn access(&self) -> String {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner()).access.clone()
    }

    /// Trades the refresh token for a new pair, unless another request already did since
    /// `expired` was sent. The old refresh token is spent either way.
    async fn refresh(&self, expired: &str) -> Result<(), SyncError> {
        let _one_at_a_time = self.refreshing.lock().await;
        if self.access() != expired {
            return Ok(());
        }
        let refresh = self.tokens.lock().unwrap_or_else(|p| p.into_inner()).refresh.clone();
        let request = serde_json::json!({ "refresh": refresh });
        let res = self.http.post(format!("{}/api/token/refresh/", self.base)).json(&request).send().await?;
        let tokens: TokenPair = answer(res).await?;
        *self.tokens.lock().unwrap_or_else(|p| p.into_inner()) = tokens;
        Ok(())
    }

    /// Sends a request built by `build` with the access token; on a 401 refreshes once and
    /// sends it again.
    async fn send<T: DeserializeOwned>(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<T, SyncError> {
        let access = self.access();
        let res = build(&self.http).bearer_auth(&access).send().await?;
        let res = if res.status() == reqwest::StatusCode::UNAUTHORIZED {
            self.refresh(&access).await?;
            build(&self.http).bearer_auth(self.access()).send().await?
        } else {
            res
        };
        answer(res).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, SyncError> {
        let url = format!("{}{path}", self.base);
        self.send(|http| http.get(&url)).await
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: serde_json::Value) -> Result<T, SyncError> {
        let url = format!("{}{path}", self.base);
        self.send(|http| http.post(&url).json(&body)).await
    }

    /// The open review items, oldest first.
    pub async fn review_items(&self) -> Result<Vec<ReviewItem>, SyncError> {
        Ok(self.get::<ReviewItems>("/api/v1/customers/review-items/").await?.results)
    }

    /// Closes a review item: the two are different people.
    pub async fn dismiss(&self, item: Uuid) -> Result<(), SyncError> {
        self.post::<serde_json::Value>(
            &format!("/api/v1/customers/review-items/{item}/dismiss/"),
            serde_json::json!({}),
        )
        .await?;
        Ok(())
    }

    /// Merges `loser` into `survivor` on the server; every terminal learns it on its next pull.
    pub async fn merge(&self, survivor: Uuid, loser: Uuid) -> Result<Merged, SyncError> {
        self.post("/api/v1/customers/merge/", serde_json::json!({ "survivor": survivor, "loser": loser })).await
    }
}
