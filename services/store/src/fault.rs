//! Fault points for crash tests. In debug builds, a process started with
//! `LIENTHONG_FAULT=<name>` stops at the point of that name: it prints
//! `fault point <name> reached` to standard error and waits to be killed, so
//! a test can kill it exactly there. Release builds compile the points away.

/// Stops here when `LIENTHONG_FAULT` names this point (debug builds only).
pub fn point(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("LIENTHONG_FAULT").is_ok_and(|wanted| wanted == name) {
        eprintln!("fault point {name} reached");
        loop {
            std::thread::park();
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
