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

    public static let defaultGrace = 7 * 86_400

    public init(
        rotator: Rotator, every: Int, grace: Int = defaultGrace, field: String? = nil, length: Int? = nil,
        alphabet: String? = nil, testRequest: TestRequest? = nil
    ) {
        self.rotator = rotator
        self.every = every
        self.grace = grace
        self.field = field
        self.length = length
        self.alphabet = alphabet
        self.testRequest = testRequest
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
        if rotator == .manual, length != nil || alphabet != nil {
            problems.append(("length", "length and alphabet are for the generated rotator"))
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
