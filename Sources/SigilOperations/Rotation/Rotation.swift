public import Foundation
public import SigilCore
import SigilHTTP
public import SigilModel
import SigilSigning
public import SigilStore
public import SigilTokens

/// Rotating an owner's secrets without downtime, in the steps AWS Secrets Manager made familiar:
/// start (the new value becomes `pending`), test (the pending value used for real), finish (pending
/// becomes `current` and current `previous`, atomically), roll back, clean up after a grace period.
/// Every step is recorded in the vault (``RotationState``), so a step run twice does nothing the
/// second time and a rotation cut short resumes where it stopped; every step is audited. The CLI
/// (`sigil rotate`) and the service call these.
public enum Rotation {
    /// Where the new value comes from.
    public enum NewValue: Sendable {
        /// Given by the operator (standard input).
        case supplied(SecretBytes)
        /// Made by Sigil: `length` characters drawn uniformly from `alphabet`.
        case generated(length: Int, alphabet: String)

        public static let defaultAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        public static let defaultLength = 40
    }

    /// A request sent with the pending value as the test: it passes when the answer's status is
    /// one of `expect`.
    public struct TestRequest: Sendable {
        public var url: String
        public var method: String
        public var expect: Set<Int>

        public init(url: String, method: String = "GET", expect: Set<Int> = [200]) {
            self.url = url
            self.method = method
            self.expect = expect
        }

        /// A policy's `testRequest`.
        public init(_ policy: RotationPolicy.TestRequest) {
            self.init(url: policy.url, method: policy.method, expect: Set(policy.expect))
        }
    }

    // MARK: Start

    /// Starts rotating `field` of `owner` (`nil`: its only stored field) to a new value: checked
    /// as `sigil secret set` checks a value, then stored as `pending`. `false` when the same
    /// rotation was already started (nothing changed).
    @discardableResult
    public static func start(_ owner: SecretOwner, field: String?, value: NewValue, in vault: Vault) throws -> Bool {
        let field = try rotatedField(owner, field, in: vault)
        let target = SecretTarget(owner: owner, field: field)
        let newValue: SecretBytes
        let rotator: String
        switch value {
        case .supplied(let given):
            newValue = given
            rotator = "supplied"
            if let state = try vault.rotation(of: owner), state.inProgress, state.fields == [field],
                try vault.secret(target, stage: .pending) == given
            {
                return false
            }
        case .generated(let length, let alphabet):
            // A generated value is never the same twice: a rotation in progress is kept as it is.
            if let state = try vault.rotation(of: owner), state.inProgress, state.fields == [field],
                state.rotator == "generated"
            {
                return false
            }
            newValue = try generate(length: length, alphabet: alphabet)
            rotator = "generated"
        }
        guard newValue != (try vault.secret(target)) else {
            throw SigilError(.invalidSecret, "\(target): the new value is the current one")
        }
        if let problem = try SchemeRegistry.secretProblems(
            in: try vault.storedCatalog(), changed: [target: newValue], stored: { try vault.secret($0) }
        ).first {
            throw SigilError(.invalidSecret, problem)
        }
        return try vault.startRotation(owner, values: [field: newValue], rotator: rotator)
    }

    /// The field a rotation of `owner` changes: the one named (it must hold a current value), or
    /// the owner's only stored field.
    static func rotatedField(_ owner: SecretOwner, _ field: String?, in vault: Vault) throws -> String {
        let stored = try vault.secretStatuses(of: owner).filter { $0.current != nil }.map(\.field)
        if let field {
            guard stored.contains(field) else {
                throw SigilError(
                    .rotationState,
                    "\(SecretTarget(owner: owner, field: field)) has no current value to rotate; set it with `sigil secret set` first"
                )
            }
            return field
        }
        guard stored.count == 1, let only = stored.first else {
            throw SigilError(
                .rotationState,
                stored.isEmpty
                    ? "\(owner) has no stored secret to rotate"
                    : "\(owner) holds \(stored.sorted().joined(separator: ", ")): name the one to rotate (--field)")
        }
        return only
    }

    /// `length` characters from `alphabet`, each drawn uniformly (rejection sampling over
    /// libsodium's random bytes, so no character is likelier than another).
    static func generate(length: Int, alphabet: String) throws -> SecretBytes {
        let characters = Array(Set(alphabet.unicodeScalars)).sorted { $0.value < $1.value }
        guard (16...4096).contains(length) else {
            throw SigilError(.invalidRequest, "--length \(length): expected 16 to 4096 characters")
        }
        guard characters.count >= 10, characters.count <= 256,
            characters.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F })
        else {
            throw SigilError(
                .invalidRequest, "--alphabet: expected 10 to 94 distinct printable ASCII characters (no space)")
        }
        let bytes = characters.map { UInt8($0.value) }
        let limit = 256 - 256 % bytes.count
        return SecretBytes(count: length) { output in
            var filled = 0
            while filled < length {
                let random = SecretBytes.random(count: 64)
                random.withUnsafeBytes { randomBytes in
                    for byte in randomBytes where Int(byte) < limit && filled < length {
                        output[filled] = bytes[Int(byte) % bytes.count]
                        filled += 1
                    }
                }
            }
        }
    }

    // MARK: Test

    /// Tests the pending value for real: an OAuth 2.0 principal's client secret (or key) at its
    /// token endpoint (``ClientAuthenticationProbe``), and `request`, when given, signed with the
    /// pending value and sent. Records the outcome (a failure leaves `current` untouched and says
    /// why) and returns what was proved; throws with the failure. A rotation already tested is
    /// not tested again.
    @discardableResult
    public static func test(
        _ owner: SecretOwner, request testRequest: TestRequest?, in vault: Vault, broker: CredentialBroker
    ) async throws -> [String] {
        guard let state = try vault.rotation(of: owner) else {
            throw SigilError(.rotationState, "\(owner): no rotation was started; run `sigil rotate start` first")
        }
        if state.step == .tested { return ["already tested"] }
        guard state.inProgress else {
            throw SigilError(
                .rotationState, "\(owner): the rotation is \(state.step.rawValue); there is nothing to test")
        }
        let pending = PendingSecrets(vault: vault, owner: owner, fields: Set(state.fields))
        var proved: [String] = []
        do {
            if case .principal(let reference) = owner, let probe = try oauthProbeRequest(reference, source: pending) {
                proved.append(try await ClientAuthenticationProbe(broker: broker).probe(probe))
            }
            if let testRequest {
                proved.append(try await send(testRequest, owner: owner, source: pending))
            }
        } catch let error as SigilError {
            try vault.recordRotationTest(owner, error: error.reason)
            throw SigilError(
                error.code, "the pending value of \(owner) failed its test; current is unchanged: \(error.reason)")
        }
        if proved.isEmpty { proved.append("nothing to test against: no token endpoint and no test request") }
        try vault.recordRotationTest(owner, error: nil)
        return proved
    }

    /// An issuance request over the pending secrets when `reference` is an OAuth 2.0 principal
    /// whose client authenticates with a stored secret or key.
    private static func oauthProbeRequest(_ reference: PrincipalRef, source: PendingSecrets) throws
        -> IssuanceRequest?
    {
        let catalog = try source.catalog()
        guard let external = catalog.externalCredential(named: reference.externalCredential),
            external.authProtocol == .oauth2,
            let principal = external.principals.first(where: { $0.name == reference.principal })
        else { return nil }
        guard source.fields.contains("clientSecret") || source.fields.contains("privateKey") else { return nil }
        return try IssuanceRequest(
            key: IssuedCredentialKey(principal: reference, user: nil), external: external, principal: principal,
            source: source)
    }

    /// Sends `request` decorated with the pending secrets (no issued credential: OAuth 2.0 is
    /// tested at its token endpoint).
    private static func send(_ request: TestRequest, owner: SecretOwner, source: PendingSecrets) async throws -> String
    {
        let user: String? =
            if case .authorization(_, let user) = owner { user } else { nil }
        let executor = Executor(
            engine: SigningEngine(source: source, preparedSecretLifetime: .zero), connectTimeout: .seconds(10),
            readTimeout: .seconds(30), maximumTime: .seconds(60), retry: .init(retries: 1))
        let response: Executor.Response
        do {
            response = try await executor.send(OutboundRequest(method: request.method, url: request.url), as: user)
        } catch {
            try? await executor.shutdown()
            throw error
        }
        try? await executor.shutdown()
        guard request.expect.contains(response.status) else {
            throw SigilError(
                .providerFailed,
                "the test request \(request.method) \(request.url.sanitizedForMessage) was answered \(response.status), expected \(request.expect.sorted().map(String.init).joined(separator: " or "))"
            )
        }
        return "\(request.method) \(request.url.sanitizedForMessage) answered \(response.status)"
    }

    // MARK: Policies

    /// A principal whose rotation policy applies, and when its secret is due.
    public struct Due: Encodable, Sendable {
        /// `EC/PRINCIPAL`.
        public var principal: String
        public var owner: String
        public var field: String?
        public var rotator: String
        /// When the current value was stored.
        public var lastRotated: String?
        public var dueAt: String?
        public var due: Bool
        /// A rotation under way, or a reason the policy cannot run (no stored field...).
        public var note: String?
    }

    /// Every principal with a rotation policy (its own or its external credential's), with when
    /// its secret is due, soonest first.
    public static func due(in vault: Vault, at now: Date = Date()) throws -> [Due] {
        let catalog = try vault.catalog()
        var rows: [(Date, Due)] = []
        for external in catalog.externalCredentials {
            for principal in external.principals {
                guard let policy = principal.rotation ?? external.rotation else { continue }
                let owner = SecretOwner.principal(
                    PrincipalRef(externalCredential: external.name, principal: principal.name))
                var entry = Due(
                    principal: "\(external.name)/\(principal.name)", owner: owner.description, field: policy.field,
                    rotator: policy.rotator.rawValue, due: false)
                let statuses = try vault.secretStatuses(of: owner).filter { $0.current != nil }
                let field = policy.field ?? (statuses.count == 1 ? statuses.first?.field : nil)
                guard let field, let current = statuses.first(where: { $0.field == field })?.current,
                    let stored = try? Date(current.createdAt, strategy: .iso8601)
                else {
                    entry.note =
                        statuses.isEmpty
                        ? "no stored secret" : "name the field to rotate (rotation.field): it holds several"
                    rows.append((.distantFuture, entry))
                    continue
                }
                let dueAt = stored.addingTimeInterval(TimeInterval(policy.every))
                entry.field = field
                entry.lastRotated = current.createdAt
                entry.dueAt = dueAt.formatted(.iso8601)
                entry.due = dueAt <= now
                if let state = try vault.rotation(of: owner), state.inProgress {
                    entry.note = "a rotation is \(state.step.rawValue)"
                }
                rows.append((dueAt, entry))
            }
        }
        return rows.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The policy that applies to `owner` (a principal's own, else its external credential's).
    public static func policy(of owner: SecretOwner, in vault: Vault) throws -> RotationPolicy? {
        guard case .principal(let reference) = owner else { return nil }
        return try vault.catalog().externalCredential(named: reference.externalCredential)?
            .rotationPolicy(of: reference.principal)
    }

    // MARK: Finish, roll back, clean up

    /// Pending becomes current, current previous, for every rotated field at once. Needs a passed
    /// test. `false`: already finished.
    @discardableResult
    public static func finish(_ owner: SecretOwner, in vault: Vault) throws -> Bool {
        try vault.finishRotation(owner)
    }

    /// Undoes the rotation: before finish, the pending value is dropped; after, previous is current
    /// again. `false`: already rolled back.
    @discardableResult
    public static func rollBack(_ owner: SecretOwner, in vault: Vault) throws -> Bool {
        try vault.rollBackRotation(owner)
    }

    /// Deletes the previous value once `grace` has passed since finish. `false`: not yet (or
    /// nothing to clean).
    @discardableResult
    public static func cleanUp(_ owner: SecretOwner, grace: TimeInterval, in vault: Vault, now: Date = Date()) throws
        -> Bool
    {
        try vault.cleanUpRotation(owner, finishedBefore: now.addingTimeInterval(-grace))
    }

    /// Every step from where the rotation stands: start (when none is in progress and `value` is
    /// given), test, finish, and clean-up when `grace` is zero. Returns the steps taken.
    public static func run(
        _ owner: SecretOwner, field: String?, value: NewValue?, request: TestRequest?, grace: TimeInterval,
        in vault: Vault, broker: CredentialBroker
    ) async throws -> [String] {
        var steps: [String] = []
        let state = try vault.rotation(of: owner)
        if state?.inProgress != true {
            guard let value else {
                throw SigilError(.rotationState, "\(owner): no rotation is in progress; give a new value to start one")
            }
            if try start(owner, field: field, value: value, in: vault) { steps.append("started") }
        }
        if try vault.rotation(of: owner)?.step == .started {
            _ = try await test(owner, request: request, in: vault, broker: broker)
            steps.append("tested")
        }
        if try finish(owner, in: vault) { steps.append("finished") }
        if grace <= 0, try cleanUp(owner, grace: 0, in: vault) { steps.append("cleaned") }
        return steps
    }
}
