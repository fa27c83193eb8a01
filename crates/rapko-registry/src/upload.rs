//! Blob uploads (Distribution API "pushing blobs").
//!
//! A blob the repository has (`HEAD`) is skipped. Otherwise, when the caller names
//! repositories of the same registry that may have it, a cross-repository mount is
//! tried (`POST …/blobs/uploads/?mount=<digest>&from=<repo>`: 201 means done, 202
//! means "not there" and opens an ordinary upload session we use). Small blobs go up in
//! one `PUT …?digest=` on a session; large ones as `PATCH` chunks with `Content-Range`,
//! then a closing `PUT`.
//!
//! Upload data requests are never blindly resent, since half of a chunk may have
//! reached the registry. After a failure we wait, check whether the blob arrived after
//! all, then ask the session where it stands (`GET` on the upload URL): if the registry
//! agrees with what we know was accepted, we go on from there; otherwise we open a new
//! session and start over. Each blob gets a bounded number of tries.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use rapko_oci::Digest;
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode, Url};

use crate::client::Call;
use crate::error::{Error, Result};
use crate::layout::Blob;
use crate::repo::{Repo, Stats, content_digest};

/// What happened to a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlobOutcome {
    /// The repository had it.
    Existed,
    /// Mounted from another repository.
    Mounted,
    /// Uploaded.
    Uploaded,
}

/// An open upload: where to send the next request and how many bytes the registry has.
#[derive(Debug, Clone)]
struct Session {
    location: Url,
    offset: u64,
}

/// What a mount attempt gave.
enum Mount {
    Done,
    /// The blob is not in the other repository; upload on this session instead.
    Session(Session),
}

impl Repo<'_> {
    /// Makes sure the repository has `blob`, mounting from `mount_from` when possible.
    pub(crate) async fn push_blob(
        &self,
        blob: &Blob,
        mount_from: &[String],
    ) -> Result<BlobOutcome> {
        if self.blob_exists(&blob.digest).await? {
            Stats::add(&self.stats.blobs_skipped);
            return Ok(BlobOutcome::Existed);
        }
        let mut session = None;
        let candidates: Vec<&String> = mount_from.iter().filter(|r| **r != self.name).collect();
        for (i, from) in candidates.iter().enumerate() {
            match self.mount(&blob.digest, from).await? {
                Mount::Done => {
                    tracing::info!(repository = %self.display(), digest = %blob.digest, from = %from, "mounted blob");
                    Stats::add(&self.stats.blobs_mounted);
                    return Ok(BlobOutcome::Mounted);
                }
                Mount::Session(s) if i + 1 == candidates.len() => session = Some(s),
                Mount::Session(s) => self.cancel(&s).await,
            }
        }
        self.upload(blob, session).await?;
        tracing::info!(repository = %self.display(), digest = %blob.digest, size = blob.size, "uploaded blob");
        Stats::add(&self.stats.blobs_uploaded);
        Ok(BlobOutcome::Uploaded)
    }

    /// Uploads `blob`, retrying and resuming as the module documentation describes.
    async fn upload(&self, blob: &Blob, mut session: Option<Session>) -> Result<()> {
        let policy = self.client.options().retry;
        let mut failed = 0;
        loop {
            let error = match self.try_upload(blob, &mut session).await {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            failed += 1;
            // 416: the session is at another offset than we think; 404: it expired or the
            // registry lost it. Either way a new session fixes it.
            let out_of_sync = matches!(
                error,
                Error::Status {
                    status: 404 | 416,
                    ..
                }
            );
            if !(error.is_transient() || out_of_sync) || failed >= policy.attempts.max(1) {
                return Err(error);
            }
            if out_of_sync {
                session = None;
            }
            let delay = policy.backoff(failed);
            tracing::warn!(repository = %self.display(), digest = %blob.digest, failed, "upload failed, retrying in {delay:?}: {error}");
            tokio::time::sleep(delay).await;
            if self.blob_exists(&blob.digest).await? {
                // The closing PUT landed even though we did not hear back.
                return Ok(());
            }
        }
    }

    /// One try: resume or open a session, send what the registry lacks, close it.
    async fn try_upload(&self, blob: &Blob, session: &mut Option<Session>) -> Result<()> {
        let mut current = match session.take() {
            Some(s) => match self.resume(&s).await? {
                Some(resumed) => resumed,
                None => self.start().await?,
            },
            None => self.start().await?,
        };
        *session = Some(current.clone());
        let options = self.client.options();
        if current.offset == 0 && blob.size <= options.monolithic_limit {
            let body = blob
                .read(0, usize::try_from(blob.size).unwrap_or(usize::MAX))
                .await?;
            return self.finish(&current, blob, Some(body)).await;
        }
        let chunk = options.chunk_size.max(1) as u64;
        while current.offset < blob.size {
            let len = chunk.min(blob.size - current.offset);
            let body = blob
                .read(current.offset, usize::try_from(len).unwrap_or(usize::MAX))
                .await?;
            current = self.patch(&current, blob, body).await?;
            *session = Some(current.clone());
        }
        self.finish(&current, blob, None).await
    }

    /// `POST …/blobs/uploads/`: a new session.
    async fn start(&self) -> Result<Session> {
        let action = format!("start a blob upload to {}", self.display());
        let call = Call::new(Method::POST, self.url("blobs/uploads/")?, &action);
        let response = self.send(&call).await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(self.unexpected(&action, response).await);
        }
        Ok(Session {
            location: self.location(&action, response.headers(), None)?,
            offset: 0,
        })
    }

    /// `POST …/blobs/uploads/?mount=&from=`.
    async fn mount(&self, digest: &Digest, from: &str) -> Result<Mount> {
        let action = format!("mount blob {digest} from {from} into {}", self.display());
        let mut url = self.url("blobs/uploads/")?;
        url.query_pairs_mut()
            .append_pair("mount", &digest.to_string())
            .append_pair("from", from);
        let response = self.send(&Call::new(Method::POST, url, &action)).await?;
        match response.status() {
            StatusCode::CREATED => Ok(Mount::Done),
            StatusCode::ACCEPTED => Ok(Mount::Session(Session {
                location: self.location(&action, response.headers(), None)?,
                offset: 0,
            })),
            _ => Err(self.unexpected(&action, response).await),
        }
    }

    /// Abandons a session we will not use (best effort: the registry expires it anyway).
    async fn cancel(&self, session: &Session) {
        let call = Call::new(
            Method::DELETE,
            session.location.clone(),
            "cancel an unused upload",
        )
        .no_retry();
        if let Err(e) = self.send(&call).await {
            tracing::debug!("cannot cancel upload session: {e}");
        }
    }

    /// `GET <location>`: the session's state, if it matches what we know was accepted.
    /// `Range: 0-0` cannot tell 0 bytes from 1, so a session with nothing accepted is
    /// not resumed (starting over costs nothing then).
    async fn resume(&self, session: &Session) -> Result<Option<Session>> {
        if session.offset == 0 {
            return Ok(None);
        }
        let action = format!("check a blob upload to {}", self.display());
        let call = Call::new(Method::GET, session.location.clone(), &action);
        let response = self.send(&call).await?;
        if response.status() != StatusCode::NO_CONTENT {
            tracing::debug!(
                status = response.status().as_u16(),
                "upload session gone, starting over"
            );
            return Ok(None);
        }
        let have = range_end(response.headers()).map(|end| end.saturating_add(1));
        if have != Some(session.offset) {
            tracing::debug!(
                ?have,
                ours = session.offset,
                "upload session out of step, starting over"
            );
            return Ok(None);
        }
        Ok(Some(Session {
            location: self.location(&action, response.headers(), Some(&session.location))?,
            offset: session.offset,
        }))
    }

    /// `PATCH <location>` with one chunk; returns the session after it.
    async fn patch(&self, session: &Session, blob: &Blob, body: Bytes) -> Result<Session> {
        let len = body.len() as u64;
        let end = session.offset + len - 1;
        let action = format!(
            "upload bytes {}-{end} of blob {} to {}",
            session.offset,
            blob.digest,
            self.display()
        );
        let call = Call::new(Method::PATCH, session.location.clone(), &action)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::CONTENT_RANGE, &format!("{}-{end}", session.offset))
            .body(body)
            .no_retry();
        let response = self.send(&call).await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(self.unexpected(&action, response).await);
        }
        self.stats.bytes_uploaded.fetch_add(len, Ordering::Relaxed);
        // The registry may keep less than was sent; the next chunk starts where it says.
        // It must keep something, or the upload would never end.
        let offset = range_end(response.headers()).map_or(end + 1, |e| e.saturating_add(1));
        if offset > end + 1 || offset <= session.offset {
            return Err(Error::Protocol {
                registry: self.registry.name.clone(),
                action,
                reason: format!(
                    "it reports {offset} bytes received after bytes {}-{end} were sent",
                    session.offset
                ),
            });
        }
        Ok(Session {
            location: self.location(&action, response.headers(), Some(&session.location))?,
            offset,
        })
    }

    /// `PUT <location>?digest=` with the last (or only) bytes: the blob is complete.
    async fn finish(&self, session: &Session, blob: &Blob, body: Option<Bytes>) -> Result<()> {
        let action = format!(
            "finish uploading blob {} to {}",
            blob.digest,
            self.display()
        );
        let mut url = session.location.clone();
        url.query_pairs_mut()
            .append_pair("digest", &blob.digest.to_string());
        let mut call = Call::new(Method::PUT, url, &action)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .no_retry();
        let sent = body.as_ref().map_or(0, |b| b.len() as u64);
        if let Some(body) = body {
            call = call.body(body);
        }
        let response = self.send(&call).await?;
        if !response.status().is_success() {
            return Err(self.unexpected(&action, response).await);
        }
        self.stats.bytes_uploaded.fetch_add(sent, Ordering::Relaxed);
        if let Some(stored) =
            content_digest(response.headers()).filter(|d| *d != blob.digest.to_string())
        {
            return Err(Error::DigestMismatch {
                registry: self.registry.name.clone(),
                reference: format!("{}@{}", self.name, blob.digest),
                expected: blob.digest,
                actual: stored,
            });
        }
        Ok(())
    }

    /// The `Location` of an upload response, resolved against the registry; `fallback`
    /// when the registry left it out of a response that may omit it.
    fn location(&self, action: &str, headers: &HeaderMap, fallback: Option<&Url>) -> Result<Url> {
        let protocol = |reason: String| Error::Protocol {
            registry: self.registry.name.clone(),
            action: action.to_owned(),
            reason,
        };
        let Some(value) = headers.get(header::LOCATION) else {
            return fallback
                .cloned()
                .ok_or_else(|| protocol("the response has no Location header".into()));
        };
        let text = value
            .to_str()
            .map_err(|_| protocol("the Location header is not text".into()))?;
        self.registry
            .base
            .join(text)
            .map_err(|e| protocol(format!("the Location {text:?} is not a URL ({e})")))
    }
}

/// The end of `Range: 0-<end>`.
fn range_end(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(header::RANGE)?.to_str().ok()?;
    let (_, end) = value.trim().trim_start_matches("bytes=").split_once('-')?;
    end.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn ranges() {
        let mut h = HeaderMap::new();
        assert_eq!(range_end(&h), None);
        h.insert(header::RANGE, HeaderValue::from_static("0-1023"));
        assert_eq!(range_end(&h), Some(1023));
        h.insert(header::RANGE, HeaderValue::from_static("bytes=0-9"));
        assert_eq!(range_end(&h), Some(9));
        h.insert(header::RANGE, HeaderValue::from_static("junk"));
        assert_eq!(range_end(&h), None);
    }
}
