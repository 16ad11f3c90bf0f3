//! A token bucket per key (a user, a peer, a client address):
//! `per_minute` steady, `burst` at once. The gateway limits users and failed
//! authentications with it; [`PeerRateLimitLayer`] limits every gRPC call per
//! peer on the node, and health and reflection on the gateway.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept before full buckets are forgotten.
const MAX_KEYS: usize = 100_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets by key.
pub struct RateLimiter {
    per_second: f64,
    capacity: f64,
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_second: f64::from(per_minute.max(1)) / 60.0,
            capacity: f64::from(burst.max(1)),
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Whether `key`'s bucket is empty now (takes nothing).
    pub fn exhausted(&self, key: &str) -> bool {
        let now = Instant::now();
        self.lock()
            .get(key)
            .is_some_and(|bucket| self.level(bucket, now) < 1.0)
    }

    /// Requests in `bucket` at `now`, refill included.
    fn level(&self, bucket: &Bucket, now: Instant) -> f64 {
        let refill = now.duration_since(bucket.updated).as_secs_f64() * self.per_second;
        (bucket.tokens + refill).min(self.capacity)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bucket>> {
        match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Gives back one request taken from `key`'s bucket (a check that turned
    /// out not to count against it).
    pub fn refund(&self, key: &str) {
        let now = Instant::now();
        if let Some(bucket) = self.lock().get_mut(key) {
            bucket.tokens = (self.level(bucket, now) + 1.0).min(self.capacity);
            bucket.updated = now;
        }
    }

    /// Takes one request from `user`'s bucket, or says when one will be there.
    pub fn admit(&self, user: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.lock();
        if buckets.len() > MAX_KEYS {
            // Forget full buckets rather than grow without bound.
            buckets.retain(|_, bucket| self.level(bucket, now) < self.capacity);
            if buckets.len() > MAX_KEYS {
                // Every key is busy: a flood of distinct keys. Start over
                // rather than hold them all (each is refilled to its burst).
                buckets.clear();
            }
        }
        let bucket = buckets.entry(user.to_owned()).or_insert(Bucket {
            tokens: self.capacity,
            updated: now,
        });
        bucket.tokens = self.level(bucket, now);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_has_an_own_burst() {
        let limiter = RateLimiter::new(60, 3);
        for _ in 0..3 {
            assert!(limiter.admit("an").is_ok());
        }
        let wait = limiter.admit("an").unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(
            limiter.admit("binh").is_ok(),
            "another user is not affected"
        );
    }
}
