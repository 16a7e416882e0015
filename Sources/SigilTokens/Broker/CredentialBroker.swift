public import Foundation
import SigilCore
public import SigilModel
public import SigilSigning
public import SigilStore
import Synchronization

/// Keeps issued credentials (STS temporary credentials, OAuth 2.0 tokens) current for the signing
/// engine: in memory first, then the vault (sealed), and only then the provider, with exactly one
/// call to the provider at a time per principal and user:
/// - within this process, concurrent requests for the same credential wait for one refresh;
/// - across processes sharing the vault, a refresh lease with a fencing counter lets one process
///   call the provider while the others wait for the value it stores (and a refresher whose lease
///   lapsed cannot overwrite a newer value).
///
/// A value is used until `refreshMargin` seconds before it expires; while another process
/// refreshes, a value that has not yet expired is used rather than waited for. An expired value is
/// never used.
public final class CredentialBroker: CredentialIssuer {
    public let vault: Vault
    public let client: TokenEndpointClient
    /// How long a refresh lease lasts: longer than one provider call may take.
    let leaseDuration: Int64
    let holder: String
    let clock: @Sendable () -> Date
    private let stsProvider: any CredentialProvider
    private let oauthProvider: any CredentialProvider
    private let memory = Mutex<[IssuedCredentialKey: Remembered]>([:])

    /// A value in memory, with the parameters it was obtained under: while they are the same
    /// dictionaries (the vault's catalog snapshot shares them, so comparing is cheap), the digest and
    /// margin need not be worked out again. A class, so a lookup copies one reference.
    private final class Remembered: Sendable {
        let external: [String: String]
        let principal: [String: String]
        let digest: String
        let margin: Int64
        let credential: IssuedCredential

        init(
            external: [String: String], principal: [String: String], digest: String, margin: Int64,
            credential: IssuedCredential
        ) {
            self.external = external
            self.principal = principal
            self.digest = digest
            self.margin = margin
            self.credential = credential
        }

        /// Dictionaries that share storage compare by identity alone.
        func matches(_ request: IssuanceRequest) -> Bool {
            principal == request.principal.parameters && external == request.external.parameters
        }
    }
    private let inFlight = Mutex<[IssuedCredentialKey: Task<IssuedCredential, any Error>]>([:])
    /// Per credential, after provider failures: how many in a row, the last error, and when the
    /// provider may be asked again (1, 2, 4... up to 60 seconds later).
    private let failures = Mutex<[IssuedCredentialKey: (count: Int, error: any Error, retryAt: Date)]>([:])

    /// Told of every call to a provider: the external credential, and whether it failed (the
    /// service's metrics count them).
    let observeProviderCall: (@Sendable (_ externalCredential: String, _ failed: Bool) -> Void)?

    /// `providers` replaces the built-in ones (STS AssumeRole) for the kinds it names.
    public init(
        vault: Vault, client: TokenEndpointClient = TokenEndpointClient(), leaseDuration: Int64 = 60,
        providers: [IssuedCredential.Kind: any CredentialProvider] = [:],
        clock: @escaping @Sendable () -> Date = { Date() },
        observeProviderCall: (@Sendable (_ externalCredential: String, _ failed: Bool) -> Void)? = nil
    ) {
        self.observeProviderCall = observeProviderCall
        self.vault = vault
        self.client = client
        self.leaseDuration = leaseDuration
        self.clock = clock
        self.holder = LeaseHolder.current()
        self.stsProvider = providers[.awsSTS] ?? AssumeRoleProvider(client: client, clock: clock)
        self.oauthProvider = providers[.oauth2] ?? OAuthProvider(client: client, clock: clock)
    }

    private func provider(_ kind: IssuedCredential.Kind) -> any CredentialProvider {
        switch kind {
        case .awsSTS: stsProvider
        case .oauth2: oauthProvider
        }
    }

    /// Closes the provider connections.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    nonisolated(nonsending) public func credential(for request: IssuanceRequest) async throws -> IssuedCredential {
        if let held = heldCredential(for: request) { return held }
        let provider = provider(request.kind)
        let digest = try provider.parametersDigest(request)
        let margin = try provider.refreshMargin(request)
        return try await singleFlight(request, provider: provider, digest: digest, margin: margin, rejected: nil)
    }

    /// The value in memory, when it was obtained under the request's parameters and is fresh.
    public func heldCredential(for request: IssuanceRequest) -> IssuedCredential? {
        guard let cached = memory.withLock({ $0[request.key] }), cached.matches(request),
            cached.credential.isFresh(at: now(), margin: cached.margin)
        else {
            return nil
        }
        return cached.credential
    }

    /// The resource refused `rejected` (a 401, or a configured status or body such as Salesforce's
    /// `INVALID_SESSION_ID`): returns a new credential, obtained once however many requests report
    /// the same rejection. A credential other than `rejected` that is already in use is returned
    /// as it is.
    public func replace(rejected: IssuedCredential, for request: IssuanceRequest) async throws -> IssuedCredential {
        let provider = provider(request.kind)
        let digest = try provider.parametersDigest(request)
        let margin = try provider.refreshMargin(request)
        let token = Self.identity(of: rejected)
        memory.withLock { cache in
            if let cached = cache[request.key], Self.identity(of: cached.credential) == token {
                cache[request.key] = nil
            }
        }
        if let cached = memory.withLock({ $0[request.key] }), cached.digest == digest,
            cached.credential.isFresh(at: now(), margin: margin)
        {
            return cached.credential
        }
        return try await singleFlight(request, provider: provider, digest: digest, margin: margin, rejected: token)
    }

    /// Stores a credential a person just authorized (`sigil auth login`): under the refresh lease,
    /// so it cannot race a refresh, and marking the user's authorization live.
    public func store(authorized credential: IssuedCredential, for request: IssuanceRequest) async throws {
        let provider = provider(request.kind)
        let digest = try provider.parametersDigest(request)
        for _ in 0..<3 {
            switch try vault.acquireRefreshLease(
                request.key, kind: request.kind, holder: holder, duration: leaseDuration)
            {
            case .granted(let lease):
                if try vault.storeIssuedCredential(credential, parametersDigest: digest, under: lease) {
                    _ = remember(credential, for: request, digest: digest, margin: try provider.refreshMargin(request))
                    return
                }
            case .held(let until, let fence, let other):
                _ = try await waitForHolder(request.key, fence: fence, holder: other, until: until)
            }
        }
        throw SigilError(
            .providerUnavailable,
            "the authorization of \(request.key) could not be stored: other processes kept the refresh lease")
    }

    /// Revokes the stored tokens of `request`'s principal and user at the provider (RFC 7009), records
    /// the outcome in the audit log and forgets the value. Never throws for the provider's answer:
    /// the outcome says what happened (`revoked`, `not revoked: ...`, `failed: ...`).
    public func revoke(_ request: IssuanceRequest) async throws -> String {
        guard let stored = try vault.storedIssuedCredential(request.key) else { return "nothing to revoke" }
        let outcome: String
        switch request.kind {
        case .oauth2:
            // Only to the provider that issued it: a token obtained under other settings (token
            // endpoint, client, grant) would go, with the client's credentials, to whatever the
            // settings name now.
            let digest = try? provider(.oauth2).parametersDigest(request)
            if let digest, try vault.issuedCredential(request.key, kind: .oauth2, parametersDigest: digest) == nil {
                outcome =
                    "not revoked: it was obtained under other settings (tokenUrl, client or grant changed since); forgotten"
            } else {
                do {
                    outcome = try await OAuthProvider(client: client, clock: clock).revoke(request, stored)
                } catch let error as SigilError {
                    outcome = "failed: \(error.reason)"
                }
            }
        case .awsSTS:
            outcome = "not revocable: STS credentials expire on their own"
        }
        try vault.recordRevocation(request.key, outcome: outcome)
        forget(request.key)
        try vault.deleteIssuedCredential(request.key)
        return outcome
    }

    /// What identifies a value: its access token or access key id, never logged.
    static func identity(of credential: IssuedCredential) -> SecretBytes? {
        credential.fields["accessToken"] ?? credential.fields["accessKeyId"]
    }

    private func backOff(_ key: IssuedCredentialKey, after error: any Error) {
        failures.withLock { failures in
            let count = (failures[key]?.count ?? 0) + 1
            failures[key] = (count, error, clock().addingTimeInterval(min(60, pow(2, Double(count - 1)))))
        }
    }

    private func singleFlight(
        _ request: IssuanceRequest, provider: any CredentialProvider, digest: String, margin: Int64,
        rejected: SecretBytes?
    ) async throws -> IssuedCredential {
        let task = inFlight.withLock { tasks in
            if let running = tasks[request.key] { return running }
            let task = Task {
                defer { self.inFlight.withLock { $0[request.key] = nil } }
                return try await self.refresh(
                    request, provider: provider, digest: digest, margin: margin, rejected: rejected)
            }
            tasks[request.key] = task
            return task
        }
        return try await Self.value(of: task)
    }

    /// `task`'s value, or `CancellationError` as soon as the caller is cancelled (its deadline,
    /// such as `sigil call --max-time`): a task's value is otherwise awaited to the end. The
    /// refresh itself goes on for the other callers, and its value is stored for the next.
    static func value(of task: Task<IssuedCredential, any Error>) async throws -> IssuedCredential {
        let waiter = Waiter()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiter.start(continuation)
                Task { waiter.finish(await task.result) }
            }
        } onCancel: {
            waiter.finish(.failure(CancellationError()))
        }
    }

    /// One continuation, resumed once: by the task's result or the caller's cancellation, whichever
    /// comes first (a cancellation before the wait began ends it as soon as it begins).
    private final class Waiter: Sendable {
        private let state = Mutex<
            (
                continuation: CheckedContinuation<IssuedCredential, any Error>?,
                early: Result<IssuedCredential, any Error>?
            )
        >((nil, nil))

        func start(_ continuation: CheckedContinuation<IssuedCredential, any Error>) {
            let early = state.withLock { state -> Result<IssuedCredential, any Error>? in
                if let early = state.early { return early }
                state.continuation = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        func finish(_ result: Result<IssuedCredential, any Error>) {
            let continuation = state.withLock { state -> CheckedContinuation<IssuedCredential, any Error>? in
                guard let continuation = state.continuation else {
                    if state.early == nil { state.early = result }
                    return nil
                }
                state.continuation = nil
                state.early = result
                return continuation
            }
            continuation?.resume(with: result)
        }
    }

    private func now() -> Int64 { Int64(clock().timeIntervalSince1970) }

    /// The vault's value if it is fresh; else a new one from the provider under the refresh lease;
    /// else, while another process holds the lease, its value once stored.
    private func refresh(
        _ request: IssuanceRequest, provider: any CredentialProvider, digest: String, margin: Int64,
        rejected: SecretBytes?
    ) async throws -> IssuedCredential {
        let key = request.key
        // After a provider failure, callers get the same error until the back-off ends, unless a
        // value that has not expired is at hand; the provider is not asked again meanwhile.
        if let failure = failures.withLock({ $0[key] }), clock() < failure.retryAt {
            if let stored = try vault.issuedCredential(key, kind: request.kind, parametersDigest: digest),
                stored.isFresh(at: now(), margin: 0),
                rejected == nil || Self.identity(of: stored) != rejected
            {
                return stored
            }
            throw failure.error
        }
        /// Fresh, and not the value the resource just refused.
        func usable(_ credential: IssuedCredential?, margin: Int64) -> Bool {
            guard let credential, credential.isFresh(at: now(), margin: margin) else { return false }
            return rejected == nil || Self.identity(of: credential) != rejected
        }
        // Bounded: each pass either returns, or waits until a lease is released or ends (within
        // leaseDuration). A holder known to be gone is taken over on the next pass.
        var gone: String?
        for _ in 0..<6 {
            let stored = try vault.issuedCredential(key, kind: request.kind, parametersDigest: digest)
            if let stored, usable(stored, margin: margin) {
                return remember(stored, for: request, digest: digest, margin: margin)
            }
            switch try vault.acquireRefreshLease(
                key, kind: request.kind, holder: holder, duration: leaseDuration, takingOverFrom: gone)
            {
            case .granted(let lease):
                // Another process may have stored a value just before this lease was granted.
                let latest = try vault.issuedCredential(key, kind: request.kind, parametersDigest: digest)
                if let latest, usable(latest, margin: margin) {
                    try vault.releaseRefreshLease(lease)
                    return remember(latest, for: request, digest: digest, margin: margin)
                }
                let obtained: IssuedCredential
                do {
                    obtained = try await provider.obtain(request, previous: latest, now: clock())
                    observeProviderCall?(request.external.name, false)
                } catch let error as SigilError where error.code == .reauthorizationRequired {
                    observeProviderCall?(request.external.name, true)
                    forget(key)
                    try? vault.releaseRefreshLease(lease, error: error.reason, discardingValue: true)
                    throw error
                } catch {
                    observeProviderCall?(request.external.name, true)
                    try? vault.releaseRefreshLease(lease, error: (error as? SigilError)?.reason ?? "\(type(of: error))")
                    backOff(key, after: error)
                    // The provider failed, but the value in hand has not expired yet: use it.
                    if let latest, usable(latest, margin: 0) {
                        return remember(latest, for: request, digest: digest, margin: margin)
                    }
                    throw error
                }
                failures.withLock { $0[key] = nil }
                if try vault.storeIssuedCredential(obtained, parametersDigest: digest, under: lease) {
                    return remember(obtained, for: request, digest: digest, margin: margin)
                }
            // A newer lease was granted while the provider answered: read what its holder stored.
            case .held(let until, let fence, let other):
                if let stored, usable(stored, margin: 0) {
                    return stored
                }
                switch try await waitForHolder(key, fence: fence, holder: other, until: until) {
                case .failed(let reason):
                    // Shared, not retried: every waiter would otherwise ask the provider in turn.
                    let error = SigilError(
                        .providerFailed,
                        "\(request.kind.rawValue) credential for \(key): the provider refused another process's request at the same moment: \(reason)"
                    )
                    backOff(key, after: error)
                    throw error
                case .gone:
                    gone = other
                case .released:
                    break
                }
            }
        }
        throw SigilError(
            .providerUnavailable,
            "\(request.kind.rawValue) credential for \(key): other processes kept the refresh lease without storing a value"
        )
    }

    /// How a wait for another process's lease ended.
    enum WaitOutcome: Equatable {
        /// Released: with a value, without one, or superseded by a newer lease; look again.
        case released
        /// Released with the error the provider gave its holder.
        case failed(String)
        /// Its holder, a process on this machine, no longer runs: take the lease over.
        case gone
    }

    /// Waits while `holder` holds lease `fence` of `key`: polls the lease's row (not its expiry)
    /// with a short back-off, so a waiter wakes as soon as the holder stores a value or gives up,
    /// and learns the holder's error instead of asking the provider again. Ends at `until` at the
    /// latest, and at once when the caller's task is cancelled (its deadline).
    func waitForHolder(_ key: IssuedCredentialKey, fence: Int64, holder other: String, until: Int64) async throws
        -> WaitOutcome
    {
        var pause = 10
        while true {
            try await Task.sleep(for: .milliseconds(pause))
            pause = min(pause * 2, 200)
            guard let state = try vault.refreshLeaseState(key), state.fence == fence else { return .released }
            if state.holder == nil {
                if state.writtenFence != fence, let error = state.lastError { return .failed(error) }
                return .released
            }
            if now() > until { return .released }
            if LeaseHolder.isGone(other) { return .gone }
        }
    }

    private func forget(_ key: IssuedCredentialKey) {
        _ = memory.withLock { $0.removeValue(forKey: key) }
    }

    private func remember(_ credential: IssuedCredential, for request: IssuanceRequest, digest: String, margin: Int64)
        -> IssuedCredential
    {
        memory.withLock {
            $0[request.key] = Remembered(
                external: request.external.parameters, principal: request.principal.parameters, digest: digest,
                margin: margin, credential: credential)
        }
        return credential
    }
}
