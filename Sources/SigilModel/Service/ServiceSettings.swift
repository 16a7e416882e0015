/// The service's settings: the apply file's `service:` (README, "The service"). Which inbound
/// authenticators run, and how failures slow down. Not secret.
public struct ServiceSettings: Sendable, Hashable, Codable {
    /// HTTP Basic against Sigil's own users (passwords set with `sigil user set-password`).
    public var basic: Toggle
    /// `Authorization: Bearer` API keys (`sigil apikey create`).
    public var apiKeys: Toggle
    /// How repeated authentication failures slow down.
    public var failures: FailureDelay

    public init(basic: Toggle = Toggle(), apiKeys: Toggle = Toggle(), failures: FailureDelay = FailureDelay()) {
        self.basic = basic
        self.apiKeys = apiKeys
        self.failures = failures
    }

    public struct Toggle: Sendable, Hashable, Codable {
        public var enabled: Bool

        public init(enabled: Bool = true) {
            self.enabled = enabled
        }
    }

    /// After a failure for a user name or a client address, the next answer to it waits
    /// `firstMilliseconds`, doubling with each further failure up to `maximumMilliseconds`; a
    /// success or `forgetSeconds` without a failure clears the count.
    public struct FailureDelay: Sendable, Hashable, Codable {
        public var firstMilliseconds: Int
        public var maximumMilliseconds: Int
        public var forgetSeconds: Int

        public init(firstMilliseconds: Int = 200, maximumMilliseconds: Int = 5000, forgetSeconds: Int = 900) {
            self.firstMilliseconds = firstMilliseconds
            self.maximumMilliseconds = maximumMilliseconds
            self.forgetSeconds = forgetSeconds
        }

        /// The problems with these values, as `field: problem`.
        public var problems: [(field: String, problem: String)] {
            var problems: [(String, String)] = []
            if !(0...10_000).contains(firstMilliseconds) {
                problems.append(("failures.firstMilliseconds", "expected 0 to 10000"))
            }
            if !(firstMilliseconds...60_000).contains(maximumMilliseconds) {
                problems.append(("failures.maximumMilliseconds", "expected firstMilliseconds to 60000"))
            }
            if !(1...86_400).contains(forgetSeconds) {
                problems.append(("failures.forgetSeconds", "expected 1 to 86400"))
            }
            return problems
        }
    }
}
