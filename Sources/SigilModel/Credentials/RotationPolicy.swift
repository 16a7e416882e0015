import Foundation

/// When and how a principal's secret is rotated (`rotation:` on an external credential, which its
/// principals inherit, or on one principal). `sigil rotate due` lists the principals whose secret is
/// older than `every`; `sigil rotate run` takes their steps.
public struct RotationPolicy: Sendable, Hashable, Codable {
    /// Where a new value comes from.
    public enum Rotator: String, Sendable, Hashable, Codable, CaseIterable {
        /// The operator supplies it (`sigil rotate start` reads it from standard input).
        case manual
        /// Sigil makes it (`length` characters from `alphabet`).
        case generated
        /// An AWS IAM access key pair made by `CreateAccessKey` for the principal's IAM user, tested
        /// with STS `GetCallerIdentity`, retired (inactive, then deleted) at clean-up.
        case awsIAMAccessKey = "aws-iam-access-key"
        /// An OAuth 2.0 client secret: made by Sigil (or supplied), added at the provider through
        /// `clientSecrets.add` when configured, tested with a token request, and revoked through
        /// `clientSecrets.revoke` at clean-up.
        case oauthClientSecret = "oauth-client-secret"
        /// An executable run for each step with a JSON document on standard input.
        case command

        /// The fields this rotator always rotates together (the first is the one whose age makes
        /// the rotation due), when it decides them itself.
        public var fields: [String]? {
            self == .awsIAMAccessKey ? ["accessKeyId", "secretAccessKey"] : nil
        }

        /// Whether the rotator makes new values without the operator (so that `sigil serve` can
        /// rotate on schedule).
        public var isAutomatic: Bool { self != .manual }
    }

    /// `aws:` of an `aws-iam-access-key` policy.
    public struct AWSSettings: Sendable, Hashable, Codable {
        /// The IAM user whose keys rotate (default: the user the stored keys belong to).
        public var userName: String?
        public var iamEndpoint: String?
        public var stsEndpoint: String?
        public var stsRegion: String?

        public init(
            userName: String? = nil, iamEndpoint: String? = nil, stsEndpoint: String? = nil, stsRegion: String? = nil
        ) {
            self.userName = userName
            self.iamEndpoint = iamEndpoint
            self.stsEndpoint = stsEndpoint
            self.stsRegion = stsRegion
        }
    }

    /// `clientSecrets:` of an `oauth-client-secret` policy: the provider's API for a client's
    /// secrets, called through named credentials (so the calls are authenticated by Sigil too). Each
    /// gets a form-encoded `POST` of `client_id` and `client_secret` (the new one to add, the old
    /// one to revoke); any 2xx answer is success.
    public struct ClientSecretAdmin: Sendable, Hashable, Codable {
        public var add: String?
        public var revoke: String?

        public init(add: String? = nil, revoke: String? = nil) {
            self.add = add
            self.revoke = revoke
        }
    }

    /// `command:` of a `command` policy.
    public struct CommandSettings: Sendable, Hashable, Codable {
        /// The executable's absolute path.
        public var path: String
        /// Its arguments (never secrets: they are visible to every local user).
        public var arguments: [String]
        /// The longest one step may run, in seconds.
        public var timeout: Int

        public static let defaultTimeout = 60

        public init(path: String, arguments: [String] = [], timeout: Int = defaultTimeout) {
            self.path = path
            self.arguments = arguments
            self.timeout = timeout
        }
    }

    /// A request sent with the pending value as the rotation's test.
    public struct TestRequest: Sendable, Hashable, Codable {
        public var url: String
        public var method: String
        public var expect: [Int]

        public init(url: String, method: String = "GET", expect: [Int] = [200]) {
            self.url = url
            self.method = method
            self.expect = expect
        }
    }

    public var rotator: Rotator
    /// How old the current value may grow, in seconds.
    public var every: Int
    /// How long the previous value is kept after finish, in seconds.
    public var grace: Int
    /// The field rotated (default: the principal's only stored field).
    public var field: String?
    /// For `generated`: the value's length and alphabet (defaults: 40, letters and digits).
    public var length: Int?
    public var alphabet: String?
    public var testRequest: TestRequest?
    public var aws: AWSSettings?
    public var clientSecrets: ClientSecretAdmin?
    public var command: CommandSettings?

    public static let defaultGrace = 7 * 86_400

    public init(
        rotator: Rotator, every: Int, grace: Int = defaultGrace, field: String? = nil, length: Int? = nil,
        alphabet: String? = nil, testRequest: TestRequest? = nil, aws: AWSSettings? = nil,
        clientSecrets: ClientSecretAdmin? = nil, command: CommandSettings? = nil
    ) {
        self.rotator = rotator
        self.every = every
        self.grace = grace
        self.field = field
        self.length = length
        self.alphabet = alphabet
        self.testRequest = testRequest
        self.aws = aws
        self.clientSecrets = clientSecrets
        self.command = command
    }

    /// `90d`, `12h`, `30m`, `45s` (or `0`), in seconds; `nil` when `text` is not such a duration.
    public static func seconds(_ text: String) -> Int? {
        if text == "0" { return 0 }
        let units: [Character: Int] = ["d": 86_400, "h": 3600, "m": 60, "s": 1]
        guard let unit = text.last.flatMap({ units[$0] }), let count = Int(text.dropLast()),
            (0...36_500).contains(count)
        else { return nil }
        return count * unit
    }

    /// `90d` for 7,776,000 seconds: the largest unit that divides it.
    public static func duration(_ seconds: Int) -> String {
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] where seconds > 0 && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return seconds == 0 ? "0" : "\(seconds)s"
    }

    /// What is wrong with the policy, by field (`every`, `length`...); empty when nothing is.
    public var problems: [(field: String, problem: String)] {
        var problems: [(String, String)] = []
        if every < 3600 { problems.append(("every", "must be at least 1h")) }
        if grace < 0 { problems.append(("grace", "must not be negative")) }
        if let length, !(16...4096).contains(length) { problems.append(("length", "must be 16 to 4096")) }
        if let alphabet {
            let characters = Set(alphabet.unicodeScalars)
            if characters.count < 10 || !characters.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) {
                problems.append(("alphabet", "must hold 10 to 94 distinct printable ASCII characters (no space)"))
            }
        }
        if [.manual, .awsIAMAccessKey, .command].contains(rotator), length != nil || alphabet != nil {
            problems.append(("length", "length and alphabet are for the generated and oauth-client-secret rotators"))
        }
        if aws != nil, rotator != .awsIAMAccessKey {
            problems.append(("aws", "is for the aws-iam-access-key rotator"))
        }
        if let aws {
            for (key, url) in [("iamEndpoint", aws.iamEndpoint), ("stsEndpoint", aws.stsEndpoint)] {
                guard let url else { continue }
                let components = URLComponents(string: url)
                let scheme = components?.scheme?.lowercased()
                if components?.host?.isEmpty != false
                    || !(scheme == "https"
                        || (scheme == "http" && InboundCredentials.isLoopback(components?.host ?? "")))
                {
                    problems.append(("aws.\(key)", "must be an https URL (http only on loopback)"))
                }
            }
        }
        if clientSecrets != nil, rotator != .oauthClientSecret {
            problems.append(("clientSecrets", "is for the oauth-client-secret rotator"))
        }
        for (key, url) in [("add", clientSecrets?.add), ("revoke", clientSecrets?.revoke)] {
            if let url, !url.hasPrefix("callout:") {
                problems.append(
                    (
                        "clientSecrets.\(key)",
                        "must be callout:NAME/path (the provider's API, through a named credential)"
                    ))
            }
        }
        switch (rotator, command) {
        case (.command, nil): problems.append(("command", "is missing: the command rotator needs command.path"))
        case (.command, let command?):
            if !command.path.hasPrefix("/") { problems.append(("command.path", "must be an absolute path")) }
            if !(1...3600).contains(command.timeout) { problems.append(("command.timeout", "must be 1s to 1h")) }
        case (_, .some): problems.append(("command", "is for the command rotator"))
        default: break
        }
        if let testRequest {
            if testRequest.expect.isEmpty || !testRequest.expect.allSatisfy({ (100...599).contains($0) }) {
                problems.append(("testRequest.expect", "must list HTTP statuses (100 to 599)"))
            }
            if !testRequest.url.hasPrefix("callout:") && !testRequest.url.hasPrefix("https://") {
                problems.append(("testRequest.url", "must be callout:NAME/path or an https URL"))
            }
        }
        return problems
    }
}
