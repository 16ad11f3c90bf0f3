//! A token bucket per user: `per_minute` steady, `burst` at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Bucket {
    tokens: f64,
    updated: Instant,
}

pub(crate) struct RateLimiter {
    per_second: f64,
    capacity: f64,
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(per_minute: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_second: f64::from(per_minute.max(1)) / 60.0,
            capacity: f64::from(burst.max(1)),
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Whether `key`'s bucket is empty now (takes nothing).
    pub(crate) fn exhausted(&self, key: &str) -> bool {
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

    /// Takes one request from `user`'s bucket, or says when one will be there.
    pub(crate) fn admit(&self, user: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.lock();
        if buckets.len() > 100_000 {
            // Forget full buckets rather than grow without bound.
            buckets.retain(|_, bucket| self.level(bucket, now) < self.capacity);
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
