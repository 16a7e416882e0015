internal import CSodium

extension Array where Element == UInt8 {
    /// Overwrites the bytes (`sodium_memzero`) before the array is released: for the short-lived
    /// copies a library needs as an array (BoringSSL's input, a rendered template). Best effort:
    /// copies the standard library made earlier are not reached.
    public mutating func wipe() {
        withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { sodium_memzero(base, buffer.count) }
        }
    }
}
