/// The service's settings: the apply file's `service:` (README, "The service"). Which inbound
/// authenticators run, and how failures slow down. Not secret.
public struct ServiceSettings: Sendable, Hashable, Codable {
    /// HTTP Basic against Sigil's own users (passwords set with `sigil user set-password`).
    public var basic: Toggle
    /// `Authorization: Bearer` API keys (`sigil apikey create`).
    public var apiKeys: Toggle
    /// How repeated authentication failures slow down.
    public var failures: FailureDelay
    /// An upstream platform's session (a session id and an identity URL, as Salesforce's pair);
    /// `nil`: off.
    public var platformSession: PlatformSession?

    public init(
        basic: Toggle = Toggle(), apiKeys: Toggle = Toggle(), failures: FailureDelay = FailureDelay(),
        platformSession: PlatformSession? = nil
    ) {
        self.basic = basic
        self.apiKeys = apiKeys
        self.failures = failures
        self.platformSession = platformSession
    }

    /// The first authenticator of the chain: a caller sends its platform session id and the URL of
    /// its identity; Sigil asks that URL, with the session as a bearer token, who it is, but only
    /// when the URL's host is on ``allowedHosts`` (never an arbitrary URL: that would let any caller
    /// make the service send requests where they like). A success is kept for ``cacheSeconds``.
    public struct PlatformSession: Sendable, Hashable, Codable {
        public var sessionHeader: String
        public var identityHeader: String
        /// Hosts (`id.example.com`, or `host:port`) the identity URL may name; https only, except
        /// on loopback.
        public var allowedHosts: [String]
        /// Which field of the identity's JSON names the Sigil user: `username`, `email` or `user_id`.
        public var userField: String
        public var cacheSeconds: Int

        public static let userFields = ["username", "email", "user_id"]

        public init(
            sessionHeader: String = "X-Sigil-Session", identityHeader: String = "X-Sigil-Identity-URL",
            allowedHosts: [String] = [], userField: String = "username", cacheSeconds: Int = 60
        ) {
            self.sessionHeader = sessionHeader
            self.identityHeader = identityHeader
            self.allowedHosts = allowedHosts
            self.userField = userField
            self.cacheSeconds = cacheSeconds
        }

        public var problems: [(field: String, problem: String)] {
            var problems: [(String, String)] = []
            for (field, name) in [("sessionHeader", sessionHeader), ("identityHeader", identityHeader)]
            where !HTTPFieldRules.isValidName(name) {
                problems.append(("platformSession.\(field)", "is not a header name"))
            }
            if allowedHosts.isEmpty {
                problems.append(("platformSession.allowedHosts", "name at least one host the identity URL may be on"))
            }
            for host in allowedHosts
            where host.isEmpty || host.contains("/") || host.contains("@") || host.contains("*") {
                problems.append(
                    ("platformSession.allowedHosts", "\(host.sanitizedForMessage) is not a host or host:port"))
            }
            if !Self.userFields.contains(userField) {
                problems.append(
                    ("platformSession.userField", "expected one of \(Self.userFields.joined(separator: ", "))"))
            }
            if !(0...3600).contains(cacheSeconds) {
                problems.append(("platformSession.cacheSeconds", "expected 0 to 3600"))
            }
            return problems
        }
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
            // Not a range from firstMilliseconds: that would trap when it is above 60000.
            if maximumMilliseconds < firstMilliseconds || maximumMilliseconds > 60_000 {
                problems.append(("failures.maximumMilliseconds", "expected firstMilliseconds to 60000"))
            }
            if !(1...86_400).contains(forgetSeconds) {
                problems.append(("failures.forgetSeconds", "expected 1 to 86400"))
            }
            return problems
        }
    }
}
