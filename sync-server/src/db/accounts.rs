//! Organisations, branches, users, refresh tokens, registration codes and devices.

use super::{opt_uuid_col, ts, uuid_col, Db, DbResult};
use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub username: String,
    pub password_hash: String,
    pub role: String,
}

fn user_record(r: &sqlx::any::AnyRow) -> DbResult<UserRecord> {
    Ok(UserRecord {
        id: uuid_col(r, "id")?,
        organization_id: uuid_col(r, "organization_id")?,
        username: r.try_get("username")?,
        password_hash: r.try_get("password_hash")?,
        role: r.try_get("role")?,
    })
}

#[derive(Debug, Clone)]
pub struct DeviceRecord {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub branch_id: Option<Uuid>,
    pub secret_hash: String,
    pub revoked: bool,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    /// Valid and now spent: issue the next one in `family_id`.
    Fresh {
        family_id: Uuid,
        user_id: Uuid,
        organization_id: Uuid,
    },
    /// Already spent or revoked: the whole family has been revoked.
    Reused,
    Unknown,
}

impl Db {
    pub async fn create_organization(&self, name: &str) -> DbResult<Uuid> {
        let _turn = self.write_turn().await;
        let id = Uuid::now_v7();
        sqlx::query(self.sql("INSERT INTO organizations (id, name, seq, created_at) VALUES ($1, $2, 0, $3)"))
            .bind(id.to_string())
            .bind(name)
            .bind(ts(&Utc::now()))
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    pub async fn organization_by_name(&self, name: &str) -> DbResult<Option<Uuid>> {
        let row = sqlx::query(self.sql("SELECT id FROM organizations WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| uuid_col(&r, "id")).transpose()
    }

    pub async fn create_branch(&self, organization_id: Uuid, name: &str) -> DbResult<Uuid> {
        let _turn = self.write_turn().await;
        let id = Uuid::now_v7();
        sqlx::query(self.sql("INSERT INTO branches (organization_id, id, name, created_at) VALUES ($1, $2, $3, $4)"))
            .bind(organization_id.to_string())
            .bind(id.to_string())
            .bind(name)
            .bind(ts(&Utc::now()))
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    pub async fn create_user(
        &self,
        organization_id: Uuid,
        username: &str,
        password_hash: &str,
        role: &str,
    ) -> DbResult<Uuid> {
        let _turn = self.write_turn().await;
        let id = Uuid::now_v7();
        sqlx::query(self.sql("INSERT INTO users (organization_id, id, username, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6)"))
            .bind(organization_id.to_string())
            .bind(id.to_string())
            .bind(username)
            .bind(password_hash)
            .bind(role)
            .bind(ts(&Utc::now()))
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    pub async fn user_by_username(&self, username: &str) -> DbResult<Option<UserRecord>> {
        let sql = "SELECT organization_id, id, username, password_hash, role FROM users WHERE username = $1";
        let row = sqlx::query(self.sql(sql)).bind(username).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_record).transpose()
    }

    /// The user `user_id` of `organization_id`, if it exists there.
    pub async fn user(&self, organization_id: Uuid, user_id: Uuid) -> DbResult<Option<UserRecord>> {
        let sql = "SELECT organization_id, id, username, password_hash, role FROM users \
                   WHERE organization_id = $1 AND id = $2";
        let row = sqlx::query(self.sql(sql))
            .bind(organization_id.to_string())
            .bind(user_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_record).transpose()
    }

    pub async fn store_refresh_token(
        &self,
        token_hash: &str,
        organization_id: Uuid,
        family_id: Uuid,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> DbResult<()> {
        let _turn = self.write_turn().await;
        sqlx::query(self.sql(
            "INSERT INTO refresh_tokens (token_hash, organization_id, family_id, user_id, expires_at, used, revoked) VALUES ($1, $2, $3, $4, $5, 0, 0)",
        ))
        .bind(token_hash)
        .bind(organization_id.to_string())
        .bind(family_id.to_string())
        .bind(user_id.to_string())
        .bind(ts(&expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Spends a refresh token once. Presenting a spent or revoked token revokes its family, so
    /// a stolen token dies with the first reuse by either party.
    pub async fn use_refresh_token(&self, token_hash: &str) -> DbResult<RefreshUse> {
        let _turn = self.write_turn().await;
        let now = ts(&Utc::now());
        let spent = sqlx::query(self.sql(
            "UPDATE refresh_tokens SET used = 1 WHERE token_hash = $1 AND used = 0 AND revoked = 0 AND expires_at > $2 \
             RETURNING family_id, user_id, organization_id",
        ))
        .bind(token_hash)
        .bind(&now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = spent {
            return Ok(RefreshUse::Fresh {
                family_id: uuid_col(&r, "family_id")?,
                user_id: uuid_col(&r, "user_id")?,
                organization_id: uuid_col(&r, "organization_id")?,
            });
        }
        let known = sqlx::query(self.sql("SELECT family_id FROM refresh_tokens WHERE token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        match known {
            Some(r) => {
                let family: String = r.try_get("family_id")?;
                sqlx::query(self.sql("UPDATE refresh_tokens SET revoked = 1 WHERE family_id = $1"))
                    .bind(family)
                    .execute(&self.pool)
                    .await?;
                Ok(RefreshUse::Reused)
            }
            None => Ok(RefreshUse::Unknown),
        }
    }

    pub async fn create_registration_code(
        &self,
        code_hash: &str,
        organization_id: Uuid,
        branch_id: Option<Uuid>,
        expires_at: DateTime<Utc>,
    ) -> DbResult<()> {
        let _turn = self.write_turn().await;
        sqlx::query(self.sql("INSERT INTO registration_codes (code_hash, organization_id, branch_id, expires_at) VALUES ($1, $2, $3, $4)"))
            .bind(code_hash)
            .bind(organization_id.to_string())
            .bind(branch_id.map(|b| b.to_string()))
            .bind(ts(&expires_at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Spends a one-time registration code and records the new device, in one transaction.
    /// `None` when the code is unknown, spent or expired.
    pub async fn register_device(
        &self,
        code_hash: &str,
        device_id: Uuid,
        name: &str,
        secret_hash: &str,
    ) -> DbResult<Option<DeviceRecord>> {
        let _turn = self.write_turn().await;
        let now = ts(&Utc::now());
        let mut tx = self.pool.begin().await?;
        let code = sqlx::query(self.sql(
            "UPDATE registration_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING organization_id, branch_id",
        ))
        .bind(&now)
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(code) = code else { return Ok(None) };
        let device = DeviceRecord {
            id: device_id,
            organization_id: uuid_col(&code, "organization_id")?,
            branch_id: opt_uuid_col(&code, "branch_id")?,
            secret_hash: secret_hash.to_owned(),
            revoked: false,
        };
        sqlx::query(self.sql("INSERT INTO devices (organization_id, id, branch_id, name, secret_hash, revoked, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6)"))
            .bind(device.organization_id.to_string())
            .bind(device.id.to_string())
            .bind(device.branch_id.map(|b| b.to_string()))
            .bind(name)
            .bind(secret_hash)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(device))
    }

    pub async fn device(&self, id: Uuid) -> DbResult<Option<DeviceRecord>> {
        let row = sqlx::query(
            self.sql("SELECT organization_id, id, branch_id, secret_hash, revoked FROM devices WHERE id = $1"),
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(DeviceRecord {
                id: uuid_col(&r, "id")?,
                organization_id: uuid_col(&r, "organization_id")?,
                branch_id: opt_uuid_col(&r, "branch_id")?,
                secret_hash: r.try_get("secret_hash")?,
                revoked: r.try_get::<i64, _>("revoked")? != 0,
            })
        })
        .transpose()
    }

    pub async fn revoke_device(&self, organization_id: Uuid, id: Uuid) -> DbResult<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(self.sql("UPDATE devices SET revoked = 1 WHERE organization_id = $1 AND id = $2"))
            .bind(organization_id.to_string())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
