internal import CSodium

/// libsodium's one-time initialisation. `sodium_init` is safe to call from several threads, and
/// the lazy static makes it run once per process.
enum Sodium {
    private static let initialised: Bool = sodium_init() >= 0

    static func ensureInitialised() {
        precondition(initialised, "libsodium could not be initialised")
    }
}
