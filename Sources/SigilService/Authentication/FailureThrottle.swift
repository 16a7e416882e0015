import SigilModel
import Synchronization

/// Slows down repeated authentication failures, per user name tried and per client address.
///
/// After `n` recent failures of a user name, password attempts for it are admitted no closer together
/// than `first * 2^(n-1)` (at most `maximum`), so that parallel guesses at one password queue instead
/// of running at once; an attempt that would wait longer than `maximum` is refused at once (429). A
/// failing answer waits the delay of its user name's or its client address's count, whichever is
/// longer; a good request is never held up by its address's failures (many clients may share one
/// address behind a proxy). A success clears the user's count; `forgetSeconds` without a failure
/// clears any count. Memory is bounded: at most ``capacity`` keys.
///
/// Its state sits behind a lock, not in an actor: every authenticated request clears its user's
/// count, and an actor would make that a hop to another executor and back on the hot path.
final class FailureThrottle: Sendable {
    private struct Entry {
        var failures: Int
        var lastFailure: ContinuousClock.Instant
        /// The earliest instant the next attempt is admitted.
        var nextSlot: ContinuousClock.Instant
    }

    static let capacity = 100_000
    private let state = Mutex<State>(State())
    private let clock = ContinuousClock()

    /// How long an attempt for `keys` must wait before it is checked, reserving its slot; `nil` when
    /// it would wait longer than the maximum delay (refuse it).
    func admit(_ keys: [String], settings: ServiceSettings.FailureDelay) -> Duration? {
        let now = clock.now
        return state.withLock { $0.admit(keys, now: now, settings: settings) }
    }

    /// Counts a failure against each key; returns how long the failing answer should wait.
    func failed(_ keys: [String], settings: ServiceSettings.FailureDelay) -> Duration {
        let now = clock.now
        return state.withLock { $0.failed(keys, now: now, settings: settings) }
    }

    func succeeded(_ key: String) {
        state.withLock { state in
            if !state.entries.isEmpty { state.entries[key] = nil }
        }
    }

    private struct State {
        var entries: [String: Entry] = [:]

        mutating func admit(_ keys: [String], now: ContinuousClock.Instant, settings: ServiceSettings.FailureDelay)
            -> Duration?
        {
            var wait = Duration.zero
            for key in keys {
                guard let entry = live(key, now: now, settings: settings) else { continue }
                wait = max(wait, max(.zero, entry.nextSlot - now))
            }
            if wait > .milliseconds(settings.maximumMilliseconds) { return nil }
            for key in keys {
                guard var entry = live(key, now: now, settings: settings) else { continue }
                entry.nextSlot = max(entry.nextSlot, now) + delay(after: entry.failures, settings)
                entries[key] = entry
            }
            return wait
        }

        mutating func failed(_ keys: [String], now: ContinuousClock.Instant, settings: ServiceSettings.FailureDelay)
            -> Duration
        {
            if entries.count >= FailureThrottle.capacity { prune(now: now, settings: settings) }
            var longest = Duration.zero
            for key in Set(keys) {
                var entry =
                    live(key, now: now, settings: settings) ?? Entry(failures: 0, lastFailure: now, nextSlot: now)
                entry.failures += 1
                entry.lastFailure = now
                let delay = delay(after: entry.failures, settings)
                entry.nextSlot = max(entry.nextSlot, now + delay)
                longest = max(longest, delay)
                if entries.count < FailureThrottle.capacity || entries[key] != nil { entries[key] = entry }
            }
            return longest
        }

        private mutating func live(_ key: String, now: ContinuousClock.Instant, settings: ServiceSettings.FailureDelay)
            -> Entry?
        {
            guard let entry = entries[key] else { return nil }
            if now - entry.lastFailure > .seconds(settings.forgetSeconds) && now >= entry.nextSlot {
                entries[key] = nil
                return nil
            }
            return entry
        }

        private func delay(after failures: Int, _ settings: ServiceSettings.FailureDelay) -> Duration {
            guard failures > 0 else { return .zero }
            let doubled = settings.firstMilliseconds << min(failures - 1, 20)
            return .milliseconds(min(doubled, settings.maximumMilliseconds))
        }

        private mutating func prune(now: ContinuousClock.Instant, settings: ServiceSettings.FailureDelay) {
            for key in Array(entries.keys) { _ = live(key, now: now, settings: settings) }
        }
    }
}
