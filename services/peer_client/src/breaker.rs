//! A circuit breaker per node: after `failure_threshold` consecutive failed
//! calls the node is skipped without being asked (open) until the cool-down
//! ends; then one trial call goes through (half-open), and its outcome closes
//! the breaker or opens it for another cool-down.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lienthong_proto::v1::BreakerState;

#[derive(Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trial_started: Instant },
}

/// One node's breaker.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cool_down: Duration,
    state: Mutex<State>,
}

/// Why a call was not let through.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// Time until the next trial call.
    pub retry_in: Duration,
}

impl Breaker {
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Breaker {
            threshold,
            cool_down,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// Lets a call through, or says when the next trial may go.
    pub fn admit(&self) -> Result<(), Rejected> {
        let now = Instant::now();
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Ok(()),
            State::Open { until } if now < until => Err(Rejected {
                retry_in: until - now,
            }),
            State::Open { .. } => {
                *state = State::HalfOpen { trial_started: now };
                Ok(())
            }
            // One trial at a time; a trial that never reports back (its
            // caller was cancelled) is replaced after a cool-down.
            State::HalfOpen { trial_started } if now < trial_started + self.cool_down => {
                Err(Rejected {
                    retry_in: trial_started + self.cool_down - now,
                })
            }
            State::HalfOpen { .. } => {
                *state = State::HalfOpen { trial_started: now };
                Ok(())
            }
        }
    }

    /// Records a call's outcome. `true` for a node that answered, including
    /// answers that reject the request (those are the caller's fault).
    pub fn record(&self, healthy: bool) {
        let mut state = self.lock();
        *state = match (&*state, healthy) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            (State::Open { until }, false) => State::Open { until: *until },
            (_, false) => {
                tracing::warn!(
                    cool_down_ms = self.cool_down.as_millis() as u64,
                    "circuit breaker opened"
                );
                State::Open {
                    until: Instant::now() + self.cool_down,
                }
            }
        };
    }

    /// Records no outcome for a call that was let through: it ended for reasons
    /// that say nothing of the node. A trial it held is freed at once.
    pub fn abandon(&self) {
        let mut state = self.lock();
        if let State::HalfOpen { .. } = *state {
            *state = State::Open {
                until: Instant::now(),
            };
        }
    }

    /// The state, for status reports and metrics.
    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if Instant::now() < until => BreakerState::Open,
            State::Open { .. } | State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state half-written.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_recovers_after_cool_down() {
        let breaker = Breaker::new(3, Duration::from_millis(50));
        for _ in 0..2 {
            breaker.admit().unwrap();
            breaker.record(false);
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
        breaker.admit().unwrap();
        breaker.record(false);
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(breaker.admit().is_err());

        std::thread::sleep(Duration::from_millis(60));
        breaker.admit().unwrap();
        // Only one trial at a time.
        assert!(breaker.admit().is_err());
        breaker.record(true);
        assert_eq!(breaker.state(), BreakerState::Closed);
        breaker.admit().unwrap();
    }

    #[test]
    fn an_abandoned_trial_frees_the_next_one() {
        let breaker = Breaker::new(1, Duration::from_millis(20));
        breaker.record(false);
        std::thread::sleep(Duration::from_millis(30));
        breaker.admit().unwrap();
        assert!(breaker.admit().is_err());
        breaker.abandon();
        breaker.admit().unwrap();
        // Abandoning outside a trial changes nothing.
        breaker.record(true);
        breaker.abandon();
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[test]
    fn a_failed_trial_opens_again_and_success_resets_the_count() {
        let breaker = Breaker::new(2, Duration::from_millis(30));
        breaker.record(false);
        breaker.record(true);
        breaker.record(false);
        assert_eq!(breaker.state(), BreakerState::Closed);
        breaker.record(false);
        assert_eq!(breaker.state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(40));
        breaker.admit().unwrap();
        breaker.record(false);
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(breaker.admit().is_err());
    }
}
