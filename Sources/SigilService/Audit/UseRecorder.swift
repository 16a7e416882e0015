import Logging
import NIOPosix
import ServiceLifecycle
import SigilStore
import Synchronization

/// Writes use records to the audit chain in small batches (group commit): a request adds its record
/// and goes on; every ``interval``, or as soon as ``batchSize`` records wait, one transaction writes
/// them all. On graceful shutdown everything still waiting is written. A crash (kill -9, power loss)
/// loses at most the records of the last ``interval`` (SECURITY.md, "Per-use audit").
final class UseRecorder: Service, Sendable {
    static let interval: Duration = .milliseconds(10)
    static let batchSize = 256

    private let vault: Vault
    private let logger: Logger
    private let pending = Mutex<[UseRecord]>([])
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>

    init(vault: Vault, logger: Logger) {
        self.vault = vault
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `record` for the next batch.
    func record(_ record: UseRecord) {
        let count = pending.withLock { pending in
            pending.append(record)
            return pending.count
        }
        if count >= Self.batchSize { wake.yield() }
    }

    /// Writes what is waiting now, on NIO's blocking-work pool: a batch's commit waits for the disk,
    /// and neither the event loops nor the concurrency pool should wait with it.
    func flush() async {
        let batch = pending.withLock { pending in
            defer { pending = [] }
            return pending
        }
        guard !batch.isEmpty else { return }
        do {
            try await NIOThreadPool.singleton.runIfActive { [vault] in try vault.recordUses(batch) }
        } catch {
            // Never silently: the operator must know that use records were lost.
            logger.error("could not write \(batch.count) use records to the audit log: \(error)")
        }
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [wake] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.interval)
                        wake.yield()
                    }
                }
                for await _ in wakes {
                    await flush()
                    if Task.isShuttingDownGracefully || Task.isCancelled { break }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: { [wake] in
            wake.yield()
        }
        await flush()
    }
}
