#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading secrets from where they live, straight into `SecretBytes` (never through a `String`).
extension SecretBytes {
    /// The value of environment variable `name`, or `nil` when it is not set.
    public static func environment(_ name: String) -> SecretBytes? {
        guard let value = getenv(name) else { return nil }
        return SecretBytes(copying: UnsafeRawBufferPointer(start: value, count: strlen(value)))
    }

    /// The whole content of the file at `path`. `maximumBytes` bounds what is read, so a wrong
    /// path (a device, a huge log) fails instead of filling memory.
    public static func contents(ofFile path: String, maximumBytes: Int = 1 << 20) throws(SigilError) -> SecretBytes {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw SigilError(.secretSourceUnreadable, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        return try readAll(from: descriptor, named: path, maximumBytes: maximumBytes)
    }

    /// Everything on standard input until end of file.
    public static func standardInput(maximumBytes: Int = 1 << 20) throws(SigilError) -> SecretBytes {
        try readAll(from: STDIN_FILENO, named: "standard input", maximumBytes: maximumBytes)
    }

    /// Reads until end of file into locked memory, growing by doubling; every intermediate buffer
    /// is a `SecretBytes` and so is wiped when dropped.
    static func readAll(from descriptor: Int32, named name: String, maximumBytes: Int) throws(SigilError) -> SecretBytes
    {
        var capacity = 4096
        var buffer = SecretBytes(count: capacity) { _ in }
        var length = 0
        while true {
            if length == capacity {
                guard capacity < maximumBytes + 1 else {
                    throw SigilError(
                        .secretSourceUnreadable, "\(name) holds more than \(maximumBytes) bytes, too large for a secret"
                    )
                }
                let old = buffer
                capacity *= 2
                buffer = SecretBytes(count: capacity) { grown in
                    old.withUnsafeBytes { grown.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: length) }
                }
            }
            let readCount = buffer.withUnsafeBytes { bytes in
                read(descriptor, UnsafeMutableRawPointer(mutating: bytes.baseAddress! + length), capacity - length)
            }
            if readCount < 0 {
                if errno == EINTR { continue }
                throw SigilError(.secretSourceUnreadable, "cannot read \(name): \(String(cString: strerror(errno)))")
            }
            if readCount == 0 { break }
            length += readCount
        }
        if length > maximumBytes {
            throw SigilError(
                .secretSourceUnreadable, "\(name) holds more than \(maximumBytes) bytes, too large for a secret")
        }
        return buffer.withUnsafeBytes { SecretBytes(copying: $0[0..<length]) }
    }
}

extension SigilError.Code {
    /// A file, standard input or environment variable holding a secret could not be read.
    public static let secretSourceUnreadable = Self("secret-source-unreadable")
}
