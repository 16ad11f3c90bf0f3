//! Shutdown: the process signal, and one stop signal shared by every
//! listener of a server.

use std::future::Future;

use tokio::sync::watch;

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// A stop signal every listener of a server can wait on.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Fires when `shutdown` completes.
    pub fn on(shutdown: impl Future<Output = ()> + Send + 'static) -> Stop {
        let (sender, receiver) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = sender.send(true);
        });
        Stop(receiver)
    }

    /// Completes once the stop signal has fired.
    pub async fn stopped(mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// Runs `serving` (a server that shuts down gracefully once `stopped`
/// completes) and returns its result, but no later than `grace` after
/// `stopped`: clients that hold connections open, idle or stalled, cannot
/// keep the process from stopping. Connections still open then are dropped.
pub async fn within_grace<T>(
    serving: impl Future<Output = T>,
    stopped: impl Future<Output = ()>,
    grace: std::time::Duration,
) -> Option<T> {
    tokio::pin!(serving);
    tokio::select! {
        result = &mut serving => return Some(result),
        () = stopped => {}
    }
    match tokio::time::timeout(grace, serving).await {
        Ok(result) => Some(result),
        Err(_) => {
            tracing::warn!(
                grace_ms = grace.as_millis() as u64,
                "connections still open after the shutdown grace; dropping them"
            );
            None
        }
    }
}
