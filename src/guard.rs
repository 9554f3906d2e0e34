//! Work is guarded per unit (a file, a build, a rule): a panic costs that unit only and becomes
//! an internal error naming it. This is what such errors say.

/// The text a panic carried, for internal-error messages.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
