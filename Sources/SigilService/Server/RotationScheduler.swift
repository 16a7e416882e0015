import Foundation
import Logging
import ServiceLifecycle
import SigilModel
import SigilOperations
import SigilTokens

/// Rotates due secrets while `sigil serve` runs: every `interval` (with up to a tenth of it added
/// at random, so replicas started together do not step in lock-step) one pass of
/// ``Rotation/runDue(in:broker:holder:leaseDuration:spread:now:)``, each principal under its
/// rotation lease (one process at a time, fenced), spread over `spread`. Outcomes are logged and
/// counted; a failure is retried at the next pass. Stops at graceful shutdown.
struct RotationScheduler: Service {
    let state: ServiceState
    let interval: Swift.Duration
    let spread: TimeInterval

    func run() async throws {
        // host/pid/nonce: unique to this process, and judged gone by a successor on this machine.
        let holder = LeaseHolder.current()
        // The first pass soon after start: a rotation cut short by a crash is resumed promptly.
        var wait = Swift.Duration.seconds(min(5, interval.components.seconds))
        while !Task.isShuttingDownGracefully {
            let delay = wait
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            } catch {
                return
            }
            if Task.isShuttingDownGracefully { return }
            await pass(holder: holder)
            let jitter = Double.random(in: 0...0.1) * Double(interval.components.seconds)
            wait = interval + .seconds(jitter)
        }
    }

    /// One pass; never throws (the next pass tries again).
    func pass(holder: String) async {
        do {
            let outcomes = try await Rotation.runDue(
                in: state.vault, broker: state.broker, holder: holder, spread: spread, now: state.clock())
            for outcome in outcomes {
                state.metrics.rotation(outcome: outcome.failed ? "failure" : "success")
                if outcome.failed {
                    state.logger.warning(
                        "scheduled rotation failed",
                        metadata: ["owner": "\(outcome.owner)", "reason": "\(outcome.result)"])
                } else {
                    state.logger.info(
                        "scheduled rotation", metadata: ["owner": "\(outcome.owner)", "steps": "\(outcome.result)"])
                }
            }
        } catch {
            state.metrics.rotation(outcome: "failure")
            state.logger.warning("scheduled rotation pass failed", metadata: ["error": "\(error)"])
        }
    }
}
