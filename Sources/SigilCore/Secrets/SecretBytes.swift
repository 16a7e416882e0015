internal import CSodium

/// Bytes that must not leak: key material, passwords, tokens, API keys.
///
/// The bytes live in one buffer that is locked in memory where the system allows it (so it is not
/// written to swap), wiped with `sodium_memzero` when the last copy is released, and reachable only
/// inside ``withUnsafeBytes(_:)``. Equality runs in constant time for values of equal length.
/// `description`, `debugDescription`, `dump` and string interpolation all print `<redacted>`; the
/// type is deliberately not `Codable`, `Hashable` or convertible to `String`.
///
/// Values are immutable; a new value is a new buffer.
public struct SecretBytes: Sendable {
    private final class Storage: @unchecked Sendable {
        // Immutable after init: the pointer is written once and only read afterwards.
        let buffer: UnsafeMutableRawBufferPointer
        let count: Int
        let locked: Bool

        init(count: Int, lockingMemory: Bool) {
            Sodium.ensureInitialised()
            self.count = count
            // Allocate at least one byte so the pointer is never null.
            self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
            self.buffer.initializeMemory(as: UInt8.self, repeating: 0)
            self.locked = lockingMemory && sodium_mlock(buffer.baseAddress!, buffer.count) == 0
        }

        deinit {
            if locked {
                // sodium_munlock zeroes the memory before unlocking it.
                sodium_munlock(buffer.baseAddress!, buffer.count)
            } else {
                sodium_memzero(buffer.baseAddress!, buffer.count)
            }
            buffer.deallocate()
        }
    }

    private let storage: Storage

    /// Creates a value of `count` bytes that `initializer` writes in place.
    ///
    /// `lockingMemory: false` skips `mlock` (two system calls) for a value that lives only while one
    /// request is built; it is still wiped when released. Keys and values read from the vault keep
    /// the default.
    public init(
        count: Int, lockingMemory: Bool = true,
        initializingWith initializer: (UnsafeMutableRawBufferPointer) throws -> Void
    ) rethrows {
        precondition(count >= 0, "SecretBytes count must not be negative")
        let storage = Storage(count: count, lockingMemory: lockingMemory)
        try initializer(UnsafeMutableRawBufferPointer(rebasing: storage.buffer[0..<count]))
        self.storage = storage
    }

    /// Copies `bytes`. The caller remains responsible for wiping its own copy.
    public init(copying bytes: some Collection<UInt8>, lockingMemory: Bool = true) {
        self.init(count: bytes.count, lockingMemory: lockingMemory) { buffer in
            // Contiguous bytes (arrays, buffers, strings' UTF-8) in one copy; others byte by byte.
            if bytes.withContiguousStorageIfAvailable({ buffer.copyMemory(from: UnsafeRawBufferPointer($0)) }) == nil {
                _ = buffer.initializeMemory(as: UInt8.self, from: bytes)
            }
        }
    }

    /// Copies the UTF-8 form of `string`. Swift strings cannot be wiped, so prefer reading secrets
    /// straight into `SecretBytes` (files, stdin, the environment); this is for tests and values
    /// that already were strings.
    public init(utf8 string: String, lockingMemory: Bool = true) {
        var string = string
        self = string.withUTF8 { SecretBytes(copying: $0, lockingMemory: lockingMemory) }
    }

    /// `count` bytes from the operating system's secure random source.
    public static func random(count: Int) -> SecretBytes {
        SecretBytes(count: count) { buffer in
            if let base = buffer.baseAddress, buffer.count > 0 {
                randombytes_buf(base, buffer.count)
            }
        }
    }

    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.count == 0 }

    /// Calls `body` with the bytes. The pointer must not escape the closure.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(rebasing: storage.buffer[0..<storage.count]))
    }

    /// A new value holding `self` followed by `other`.
    public func appending(_ other: SecretBytes, lockingMemory: Bool = true) -> SecretBytes {
        SecretBytes(count: count + other.count, lockingMemory: lockingMemory) { buffer in
            withUnsafeBytes { buffer.baseAddress?.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            other.withUnsafeBytes { source in
                if source.count > 0 {
                    (buffer.baseAddress! + count).copyMemory(from: source.baseAddress!, byteCount: source.count)
                }
            }
        }
    }

    /// The value with one trailing line ending (`\n` or `\r\n`) removed, as `file:` and `stdin`
    /// references read it: a secret file written by an editor or `echo` ends with one.
    public func removingOneTrailingNewline() -> SecretBytes {
        withUnsafeBytes { bytes in
            var end = bytes.count
            if end > 0, bytes[end - 1] == 0x0A {
                end -= 1
                if end > 0, bytes[end - 1] == 0x0D { end -= 1 }
            }
            return end == bytes.count ? self : SecretBytes(copying: bytes[0..<end])
        }
    }
}

extension SecretBytes: Equatable {
    /// Constant time in the length of the values (`sodium_memcmp`); only the lengths are compared
    /// in variable time.
    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.count == 0 { return true }
        return lhs.withUnsafeBytes { left in
            rhs.withUnsafeBytes { right in
                sodium_memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0
            }
        }
    }
}

extension SecretBytes: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "<redacted>" }
    public var debugDescription: String { "SecretBytes(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
