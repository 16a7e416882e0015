internal import CSodium

/// libsodium's one-time initialisation. `sodium_init` is safe to call from several threads, and
/// the lazy static makes it run once per process.
enum Sodium {
    private static let initialised: Bool = sodium_init() >= 0

    static func ensureInitialised() {
        precondition(initialised, "libsodium could not be initialised")
    }
}

/// Whether two MACs (or other byte strings of a known length) are equal, in time that depends
/// only on their length (libsodium's `sodium_memcmp`): a comparison that stops at the first
/// differing byte would tell an attacker how much of a forged MAC is right.
public func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0 else { return true }
    Sodium.ensureInitialised()
    return sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
}
