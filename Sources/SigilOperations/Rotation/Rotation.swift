import Crypto
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
        /// Made at the provider by the policy's rotator (`aws-iam-access-key`, `command`).
        case fromRotator

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

    /// Where a new value comes from when the operator gives none: made by Sigil for `generated`
    /// (and `oauth-client-secret` with `clientSecrets.add`: Sigil adds it at the provider), made at
    /// the provider for `aws-iam-access-key` and `command`; `nil` when the operator must supply it
    /// (`manual`, or no policy).
    public static func automaticValue(_ policy: RotationPolicy?) -> NewValue? {
        guard let policy else { return nil }
        switch policy.rotator {
        case .manual: return nil
        case .oauthClientSecret where policy.clientSecrets?.add == nil: return nil
        case .generated, .oauthClientSecret:
            return .generated(
                length: policy.length ?? NewValue.defaultLength, alphabet: policy.alphabet ?? NewValue.defaultAlphabet)
        case .awsIAMAccessKey, .command: return .fromRotator
        }
    }

    // MARK: Start

    /// Starts rotating `field` of `owner` (`nil`: its only stored field) to a new value: checked
    /// as `sigil secret set` checks a value, then stored as `pending`. `false` when the same
    /// rotation was already started (nothing changed).
    @discardableResult
    public static func start(
        _ owner: SecretOwner, field: String?, value: NewValue, in vault: Vault, broker: CredentialBroker
    ) async throws -> Bool {
        let policy = try policy(of: owner, in: vault)
        if let policy, let provider = policy.rotator.provider, case .principal(let reference) = owner {
            let creates = policy.rotator == .awsIAMAccessKey || policy.rotator == .command
            switch (value, creates) {
            case (.fromRotator, true):
                return try await startAtProvider(
                    owner, reference, field: field, policy: policy, provider: provider, vault: vault, broker: broker)
            case (.fromRotator, false), (.supplied, true), (.generated, true):
                throw SigilError(
                    .invalidRequest,
                    creates
                        ? "\(owner): its rotator (\(policy.rotator.rawValue)) makes the new value at the provider; give none"
                        : "\(owner): its rotator (\(policy.rotator.rawValue)) does not make values; supply one or generate one"
                )
            default: break
            }
        } else if case .fromRotator = value {
            throw SigilError(
                .invalidRequest,
                "\(owner) has no rotation policy whose rotator makes values; supply one or generate one")
        }
        let field = try rotatedField(owner, field, in: vault)
        let target = SecretTarget(owner: owner, field: field)
        let newValue: SecretBytes
        var rotator: String
        switch value {
        case .fromRotator: preconditionFailure("handled above")
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
        if let policy, policy.rotator.provider != nil { rotator = policy.rotator.rawValue }
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

    /// Start with values the provider makes: the rotation is begun in the vault first (recording
    /// when), then the provider asked, then its values stored as pending. A start cut short in
    /// between is run again: the rotator finds what it made before (``ProviderRotator``). When the
    /// provider refuses, the begun rotation is rolled back and current is untouched.
    private static func startAtProvider(
        _ owner: SecretOwner, _ reference: PrincipalRef, field: String?, policy: RotationPolicy,
        provider: any ProviderRotator, vault: Vault, broker: CredentialBroker
    ) async throws -> Bool {
        let name = policy.rotator.rawValue
        let previous = try vault.rotation(of: owner)
        if let previous, previous.inProgress, try vault.rotationIsStaged(owner) { return false }
        if let previous, previous.step == .finished {
            throw SigilError(
                .rotationState,
                "\(owner): the previous rotation's old values are still kept (grace period); run `sigil rotate cleanup` first"
            )
        }
        var step = RotationStep(
            owner: owner, reference: reference, fields: [], policy: policy, vault: vault, broker: broker)
        let fields = try provider.rotatedFields(step) ?? [try rotatedField(owner, field ?? policy.field, in: vault)]
        let began = try vault.beginRotation(owner, fields: fields, rotator: name)
        CrashPoint.here("rotation.start.after-begin")
        // What an interrupted start made is looked for since it began, or since the rotation that
        // was rolled back began (a rollback cut short before its new values were retired).
        let since =
            [began, previous?.step == .rolledBack && previous?.rotator == name ? previous?.startedAt : nil]
            .compactMap { $0.flatMap { try? Date($0, strategy: .iso8601) } }.min() ?? Date()
        step = RotationStep(
            owner: owner, reference: reference, fields: fields, policy: policy, vault: vault, broker: broker)
        do {
            guard let values = try await provider.create(step, since: since) else {
                throw SigilError(.providerFailed, "\(owner): the \(name) rotator made no value")
            }
            CrashPoint.here("rotation.start.after-create")
            return try vault.stageRotation(owner, values: values)
        } catch {
            _ = try? vault.rollBackRotation(owner)
            throw error
        }
    }

    /// The provider side of the rotation `state` records (by the rotator that started it), with
    /// what its steps are given; `nil` for values supplied or generated with no provider.
    static func providerStep(_ owner: SecretOwner, _ state: RotationState, vault: Vault, broker: CredentialBroker)
        throws -> (any ProviderRotator, RotationStep)?
    {
        guard let rotator = RotationPolicy.Rotator(rawValue: state.rotator), let provider = rotator.provider,
            case .principal(let reference) = owner
        else { return nil }
        guard let policy = try policy(of: owner, in: vault), policy.rotator == rotator else {
            throw SigilError(
                .rotationState,
                "\(owner): the rotation was started by the \(rotator.rawValue) rotator, which its policy no longer names; roll it back"
            )
        }
        return (
            provider,
            RotationStep(
                owner: owner, reference: reference, fields: state.fields, policy: policy, vault: vault, broker: broker)
        )
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
        guard try vault.rotationIsStaged(owner) else {
            throw SigilError(
                .rotationState,
                "\(owner): the rotation's new values were never stored (its start was cut short); run start again")
        }
        let pending = PendingSecrets(vault: vault, owner: owner, fields: Set(state.fields))
        var proved: [String] = []
        do {
            if let (provider, step) = try providerStep(owner, state, vault: vault, broker: broker) {
                try await provider.set(step)
                CrashPoint.here("rotation.test.after-set")
                if let result = try await provider.test(step) { proved.append(result) }
            }
            if case .principal(let reference) = owner, let probe = try oauthProbeRequest(reference, source: pending) {
                proved.append(try await ClientAuthenticationProbe(broker: broker).probe(probe))
            }
            if let testRequest {
                let user: String? =
                    if case .authorization(_, let user) = owner { user } else { nil }
                let status = try await RotationCall.send(
                    OutboundRequest(method: testRequest.method, url: testRequest.url), source: pending, as: user)
                guard testRequest.expect.contains(status) else {
                    throw SigilError(
                        .providerFailed,
                        "the test request \(testRequest.method) \(testRequest.url.sanitizedForMessage) was answered \(status), expected \(testRequest.expect.sorted().map(String.init).joined(separator: " or "))"
                    )
                }
                proved.append("\(testRequest.method) \(testRequest.url.sanitizedForMessage) answered \(status)")
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
                let field =
                    policy.field ?? policy.rotator.fields?.first ?? (statuses.count == 1 ? statuses.first?.field : nil)
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

    /// What ``runDue(in:broker:now:)`` did for one principal.
    public struct Outcome: Encodable, Sendable {
        public var owner: String
        /// The steps taken (`started, tested, finished`), `cleaned`, or why nothing was done.
        public var result: String
        public var failed: Bool
    }

    /// One pass of scheduled rotation, as `sigil rotate due --run` and `sigil serve` take it: every
    /// principal whose policy's rotator makes values is rotated when due, a rotation of such a
    /// principal that was cut short is resumed, and a finished one past its grace period is cleaned
    /// up. A `manual` principal that is due is reported with the command that takes its value.
    ///
    /// Each principal's steps are taken under its rotation lease, granted to `holder` for
    /// `leaseDuration` seconds (a principal another process is rotating is skipped), through a
    /// handle fenced by it (``Vault/fenced(by:)``). `spread` (seconds) delays each principal by a
    /// fixed share of it, drawn from its name, so that principals that fell due together (applied
    /// together) are not all rotated in the same minute.
    public static func runDue(
        in vault: Vault, broker: CredentialBroker, holder: String, leaseDuration: Int64 = 900, spread: TimeInterval = 0,
        now: Date = Date()
    ) async throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for entry in try due(in: vault, at: now) {
            guard let reference = PrincipalRef(parsing: entry.principal),
                let policy = try policy(of: .principal(reference), in: vault)
            else { continue }
            let owner = SecretOwner.principal(reference)
            let state = try vault.rotation(of: owner)
            let cleaning = state?.step == .finished
            let resuming = state?.inProgress == true && state?.rotator != "supplied"
            let due = entry.dueAt.flatMap { try? Date($0, strategy: .iso8601) }.map {
                $0.addingTimeInterval(spreadOffset(entry.principal, spread)) <= now
            }
            guard cleaning || resuming || due == true else { continue }
            let value = automaticValue(policy)
            // A manual rotation is cleaned up on schedule too; only its start waits for the operator.
            if value == nil, !cleaning {
                if due == true, state?.inProgress != true {
                    outcomes.append(
                        Outcome(
                            owner: entry.owner,
                            result: "manual; supply the value: sigil rotate run \(reference) < NEW-VALUE",
                            failed: false))
                }
                continue
            }
            guard let lease = try lease(owner, holder: holder, duration: leaseDuration, in: vault) else {
                outcomes.append(Outcome(owner: entry.owner, result: "another process is rotating it", failed: false))
                continue
            }
            let fenced = vault.fenced(by: lease)
            do {
                if cleaning {
                    if try await cleanUp(owner, grace: TimeInterval(policy.grace), in: fenced, broker: broker, now: now)
                    {
                        outcomes.append(Outcome(owner: entry.owner, result: "cleaned", failed: false))
                    }
                } else if let value {
                    let steps = try await run(
                        owner, field: entry.field, value: value, request: policy.testRequest.map(TestRequest.init),
                        grace: TimeInterval(policy.grace), in: fenced, broker: broker)
                    outcomes.append(Outcome(owner: entry.owner, result: steps.joined(separator: ", "), failed: false))
                }
            } catch let error as SigilError {
                outcomes.append(Outcome(owner: entry.owner, result: error.reason, failed: true))
            }
            try? vault.releaseRotationLease(lease)
        }
        return outcomes
    }

    /// `owner`'s rotation lease for `holder`, taken over from a holder of this machine that no
    /// longer runs (killed in the middle of a step, so that its rotation resumes at once rather than
    /// when its lease ends); `nil` while another live process holds it.
    static func lease(_ owner: SecretOwner, holder: String, duration: Int64, in vault: Vault) throws -> RotationLease? {
        switch try vault.acquireRotationLease(owner, holder: holder, duration: duration) {
        case .granted(let lease): return lease
        case .held(let other, _):
            guard LeaseHolder.isGone(other) else { return nil }
            return try vault.acquireRotationLease(owner, holder: holder, duration: duration, takingOverFrom: other)
                .lease
        }
    }

    /// A fixed share of `spread` for `principal` (from the SHA-256 of its name).
    static func spreadOffset(_ principal: String, _ spread: TimeInterval) -> TimeInterval {
        guard spread >= 1 else { return 0 }
        let digest = SHA256.hash(data: Array(principal.utf8))
        let value = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return TimeInterval(value % UInt64(spread))
    }

    /// The policy that applies to `owner` (a principal's own, else its external credential's).
    public static func policy(of owner: SecretOwner, in vault: Vault) throws -> RotationPolicy? {
        guard case .principal(let reference) = owner else { return nil }
        return try vault.catalog().externalCredential(named: reference.externalCredential)?
            .rotationPolicy(of: reference.principal)
    }

    // MARK: Finish, roll back, clean up

    /// Pending becomes current, current previous, for every rotated field at once. Needs a passed
    /// test. A provider rotator is told first (so a finish cut short tells it again). `false`:
    /// already finished.
    @discardableResult
    public static func finish(_ owner: SecretOwner, in vault: Vault, broker: CredentialBroker) async throws -> Bool {
        if let state = try vault.rotation(of: owner), state.step == .tested,
            let (provider, step) = try providerStep(owner, state, vault: vault, broker: broker)
        {
            try await provider.finish(step)
            CrashPoint.here("rotation.finish.after-provider")
        }
        return try vault.finishRotation(owner)
    }

    /// Undoes the rotation: before it finished, the pending value is dropped; after, previous is
    /// current again. A provider rotator then retires the abandoned new values. `false`: already
    /// rolled back.
    @discardableResult
    public static func rollBack(_ owner: SecretOwner, in vault: Vault, broker: CredentialBroker) async throws -> Bool {
        guard let state = try vault.rotation(of: owner) else { return try vault.rollBackRotation(owner) }
        let provider =
            state.inProgress || state.step == .finished
            ? try? providerStep(owner, state, vault: vault, broker: broker) : nil
        guard let (provider, step) = provider else { return try vault.rollBackRotation(owner) }
        // Before finish the new values were never used: retired at the provider first, so nothing
        // is left behind. After finish they are in use: the vault goes back to the old values first.
        let abandoned = try step.values(state.inProgress ? .pending : .current)
        var retireError: SigilError?
        func retire() async {
            guard !abandoned.isEmpty else { return }
            do {
                try await provider.retire(step, values: abandoned, reason: .rollBack)
            } catch let error as SigilError {
                retireError = error
            } catch {
                retireError = SigilError(.providerFailed, "\(error)")
            }
        }
        if state.inProgress { await retire() }
        let changed = try vault.rollBackRotation(owner)
        if !state.inProgress { await retire() }
        // The rollback stands even when the provider refused: say what is left to do by hand.
        if let retireError {
            throw SigilError(
                retireError.code,
                "\(owner): rolled back, but the abandoned new value could not be retired at the provider (\(retireError.reason)); retire it there by hand"
            )
        }
        return changed
    }

    /// Retires the previous values once `grace` has passed since finish: at the provider first
    /// (idempotent, so a clean-up cut short does it again), then deleted from the vault. `false`:
    /// not yet (or nothing to clean).
    @discardableResult
    public static func cleanUp(
        _ owner: SecretOwner, grace: TimeInterval, in vault: Vault, broker: CredentialBroker, now: Date = Date()
    ) async throws -> Bool {
        guard let state = try vault.rotation(of: owner), state.step == .finished,
            let finished = state.finishedAt.flatMap({ try? Date($0, strategy: .iso8601) }),
            finished <= now.addingTimeInterval(-grace)
        else { return try vault.cleanUpRotation(owner, finishedBefore: now.addingTimeInterval(-grace)) }
        if let (provider, step) = try providerStep(owner, state, vault: vault, broker: broker) {
            let previous = try step.values(.previous)
            if !previous.isEmpty { try await provider.retire(step, values: previous, reason: .cleanUp) }
            CrashPoint.here("rotation.cleanup.after-retire")
        }
        return try vault.cleanUpRotation(owner, finishedBefore: now.addingTimeInterval(-grace))
    }

    /// Every step from where the rotation stands: start (when none is in progress and `value` is
    /// given), test, finish, and clean-up when `grace` is zero. Returns the steps taken.
    public static func run(
        _ owner: SecretOwner, field: String?, value: NewValue?, request: TestRequest?, grace: TimeInterval,
        in vault: Vault, broker: CredentialBroker
    ) async throws -> [String] {
        var steps: [String] = []
        let state = try vault.rotation(of: owner)
        // A finished rotation whose clean-up is due (or was cut short) is completed, not followed
        // by another.
        if state?.step == .finished, try await cleanUp(owner, grace: grace, in: vault, broker: broker) {
            return ["cleaned"]
        }
        if state?.inProgress != true {
            guard let value else {
                throw SigilError(.rotationState, "\(owner): no rotation is in progress; give a new value to start one")
            }
            CrashPoint.here("rotation.before-start")
            if try await start(owner, field: field, value: value, in: vault, broker: broker) {
                steps.append("started")
            }
        } else if try !vault.rotationIsStaged(owner),
            let value = try value ?? automaticValue(policy(of: owner, in: vault))
        {
            // A start cut short: run it again.
            if try await start(owner, field: field, value: value, in: vault, broker: broker) {
                steps.append("started")
            }
        }
        if try vault.rotation(of: owner)?.step == .started {
            _ = try await test(owner, request: request, in: vault, broker: broker)
            steps.append("tested")
        }
        CrashPoint.here("rotation.before-finish")
        if try await finish(owner, in: vault, broker: broker) { steps.append("finished") }
        CrashPoint.here("rotation.before-cleanup")
        if grace <= 0, try await cleanUp(owner, grace: 0, in: vault, broker: broker) { steps.append("cleaned") }
        return steps
    }
}

/// Sends a request through Sigil's executor, decorated from `source`, for a rotation (its test
/// request, a provider's API): one retry, bounded times, the executor shut down after.
enum RotationCall {
    static func send(_ request: OutboundRequest, source: any CredentialSource, as user: String?) async throws -> Int {
        let executor = Executor(
            engine: SigningEngine(source: source, preparedSecretLifetime: .zero), connectTimeout: .seconds(10),
            readTimeout: .seconds(30), maximumTime: .seconds(60), retry: .init(retries: 1))
        do {
            let response = try await executor.send(request, as: user)
            try? await executor.shutdown()
            return response.status
        } catch {
            try? await executor.shutdown()
            throw error
        }
    }
}
