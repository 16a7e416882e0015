import Crypto
public import Foundation
public import NIOCore
import NIOPosix
import SigilCore
import SigilModel
import SigilSigning

/// A request body read while it is sent, in chunks, never held whole in memory.
public enum StreamedBody: Sendable {
    /// A regular file: sent with its length as `Content-Length`; it can be hashed first (SigV4) and
    /// sent again (retries, 307/308 redirects).
    case file(path: String)
    /// Read once from a handle (standard input, a pipe): sent chunked, never sent twice, so a
    /// request with it is not retried and a 307/308 redirect is not followed.
    case once(FileHandle)
    /// Read once from a source of chunks (a proxied request's body, as it arrives): sent chunked,
    /// never sent twice, like ``once(_:)``.
    case chunks(ChunkSource)

    /// Whether it can be sent again.
    var replayable: Bool {
        if case .file = self { return true }
        return false
    }

    static let chunkSize = 256 << 10

    /// The file's length, or `nil` for a stream.
    func length() throws -> Int? {
        guard case .file(let path) = self else { return nil }
        let handle = try open()
        defer { try? handle.close() }
        guard let end = try? handle.seekToEnd() else {
            throw SigilError(.transportFailed, "cannot read the body file \(path.sanitizedForMessage)")
        }
        return Int(end)
    }

    func open() throws -> FileHandle {
        switch self {
        case .file(let path):
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw SigilError(.transportFailed, "cannot read the body file \(path.sanitizedForMessage)")
            }
            return handle
        case .once(let handle):
            return handle
        case .chunks:
            throw SigilError(.transportFailed, "a streamed body has no file to open")
        }
    }

    /// The lowercase hex SHA-256 of a file, read in chunks off the caller's thread (SigV4 signs it
    /// before the body is sent).
    func sha256() async throws -> String {
        let handle = try open()
        defer { if case .file = self { try? handle.close() } }
        return try await NIOThreadPool.singleton.runIfActive {
            var hash = SHA256()
            while let data = try handle.read(upToCount: Self.chunkSize), !data.isEmpty {
                hash.update(data: data)
            }
            return Hex.encode(hash.finalize())
        }
    }

    /// The chunks, counted for `progress` as they are handed to the connection.
    func chunks(total: Int?, progress: (@Sendable (TransferProgress) -> Void)?) -> Chunks {
        Chunks(body: self, total: total, progress: progress)
    }

    struct Chunks: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let body: StreamedBody
        let total: Int?
        let progress: (@Sendable (TransferProgress) -> Void)?

        func makeAsyncIterator() -> Iterator { Iterator(chunks: self) }

        struct Iterator: AsyncIteratorProtocol {
            let chunks: Chunks
            var reader: Reader?
            var sent = 0

            mutating func next() async throws -> ByteBuffer? {
                if case .chunks(let source) = chunks.body {
                    guard let chunk = try await source.next() else { return nil }
                    sent += chunk.readableBytes
                    chunks.progress?(TransferProgress(direction: .upload, bytes: sent, total: chunks.total))
                    return chunk
                }
                if reader == nil { reader = Reader(handle: try chunks.body.open(), closes: chunks.body.replayable) }
                let reader = reader!
                // A blocking read (a pipe may wait for its writer) runs on NIO's thread pool.
                let data = try await NIOThreadPool.singleton.runIfActive {
                    try reader.handle.read(upToCount: StreamedBody.chunkSize)
                }
                guard let data, !data.isEmpty else { return nil }
                sent += data.count
                chunks.progress?(TransferProgress(direction: .upload, bytes: sent, total: chunks.total))
                return ByteBuffer(bytes: data)
            }
        }
    }

    /// An open handle, closed when the last chunk iterator lets go of it (for files it opened).
    final class Reader: Sendable {
        let handle: FileHandle
        let closes: Bool

        init(handle: FileHandle, closes: Bool) {
            self.handle = handle
            self.closes = closes
        }

        deinit { if closes { try? handle.close() } }
    }
}

/// Chunks handed over one at a time by `next`, for ``StreamedBody/chunks(_:)``.
public final class ChunkSource: Sendable {
    private let read: @Sendable () async throws -> ByteBuffer?

    /// A source reading `sequence` once, through one iterator.
    public init<Chunks: AsyncSequence & Sendable>(_ sequence: Chunks) where Chunks.Element == ByteBuffer {
        let iterator = IteratorBox(sequence.makeAsyncIterator())
        read = { try await iterator.next() }
    }

    func next() async throws -> ByteBuffer? { try await read() }

    /// The one iterator. The executor sends a read-once body at most once, from one task, so its
    /// calls never overlap; that is what makes the unchecked conformance sound.
    private final class IteratorBox<Iterator: AsyncIteratorProtocol>: @unchecked Sendable
    where Iterator.Element == ByteBuffer {
        var iterator: Iterator

        init(_ iterator: Iterator) { self.iterator = iterator }

        func next() async throws -> ByteBuffer? { try await iterator.next() }
    }
}

/// How far a transfer is, for a progress display.
public struct TransferProgress: Sendable, Equatable {
    public enum Direction: Sendable {
        case upload, download
    }

    public var direction: Direction
    /// Bytes sent or received so far.
    public var bytes: Int
    /// The whole length, when known.
    public var total: Int?

    public init(direction: Direction, bytes: Int, total: Int?) {
        self.direction = direction
        self.bytes = bytes
        self.total = total
    }
}
