//! A retry budget shared by every node call: retries may add at most a set
//! share of calls, plus a small floor per second, so that retries never
//! multiply the load on a federation that is already struggling.

use std::sync::Mutex;
use std::time::Instant;

/// Token bucket: each call deposits `percent / 100` of a token, each retry
/// spends one, and `floor_per_second` tokens arrive with time. The bucket holds
/// at most ten seconds of floor, and at least 20 tokens. Counted in
/// thousandths, so that 50 calls at 20% allow exactly 10 retries.
#[derive(Debug)]
pub struct RetryBudget {
    deposit_milli: u64,
    floor_milli_per_second: u64,
    capacity_milli: u64,
    state: Mutex<(u64, Instant)>,
}

const TOKEN: u64 = 1_000;

impl RetryBudget {
    pub fn new(percent: u32, floor_per_second: u32) -> Self {
        let floor = u64::from(floor_per_second) * TOKEN;
        RetryBudget {
            deposit_milli: u64::from(percent) * TOKEN / 100,
            floor_milli_per_second: floor,
            capacity_milli: (floor * 10).max(20 * TOKEN),
            state: Mutex::new((floor, Instant::now())),
        }
    }

    /// Records a first attempt.
    pub fn deposit(&self) {
        let mut state = self.lock();
        self.refill(&mut state);
        state.0 = (state.0 + self.deposit_milli).min(self.capacity_milli);
    }

    /// Spends one token for a retry; `false` when the budget is spent.
    pub fn try_withdraw(&self) -> bool {
        let mut state = self.lock();
        self.refill(&mut state);
        if state.0 >= TOKEN {
            state.0 -= TOKEN;
            true
        } else {
            false
        }
    }

    fn refill(&self, state: &mut (u64, Instant)) {
        let now = Instant::now();
        let micros = now.duration_since(state.1).as_micros() as u64;
        let earned = micros.saturating_mul(self.floor_milli_per_second) / 1_000_000;
        if earned > 0 {
            state.0 = (state.0 + earned).min(self.capacity_milli);
            // Move on only by the time paid for, keeping the remainder.
            let paid = earned.saturating_mul(1_000_000) / self.floor_milli_per_second;
            state.1 += std::time::Duration::from_micros(paid);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, Instant)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_bounded_by_the_share_of_calls() {
        let budget = RetryBudget::new(20, 0);
        for _ in 0..50 {
            budget.deposit();
        }
        let retries = (0..100).filter(|_| budget.try_withdraw()).count();
        assert_eq!(retries, 10);
        assert!(!budget.try_withdraw());
    }

    #[test]
    fn the_floor_allows_retries_when_calls_are_few() {
        let budget = RetryBudget::new(0, 5);
        assert!(budget.try_withdraw());
        let spent = (0..100).filter(|_| budget.try_withdraw()).count();
        assert!(spent < 10, "the floor is a trickle, not a flood: {spent}");
    }
}
