import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
public import SigilCore
public import SigilModel
public import SigilSigning
import Synchronization

/// Sends requests the engine decorates: the one place where Sigil's outbound calls leave the
/// process. When the resource refuses the issued credential a request carried (a 401, or the
/// external credential's `refreshOnStatus`/`refreshOnBody`), the credential is replaced once and the
/// request retried once, never more.
///
/// Redirects are followed as ``redirects`` says: inside the named credential's endpoint the new
/// URL is decorated again (so SigV4 signs it); one that leaves the endpoint is refused, or followed
/// as a plain request without any credential.
public final class Executor: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        /// The principal the answered request was decorated with; `nil` after a redirect that left
        /// the endpoint (sent without credentials).
        public var principal: PrincipalRef?
        /// The body; empty when a 2xx body went to the caller's `download` sink.
        public var body: [UInt8]
        /// Whether the first answer refused the credential and this is the retry's.
        public var retried: Bool
    }

    public let engine: SigningEngine
    /// How long connecting (TCP and TLS) may take.
    public let connectTimeout: Duration
    /// How long the server may stay silent while a request is under way.
    public let readTimeout: Duration
    /// How long the whole call may take, retries, redirects and the body included; `nil`: no limit.
    public let maximumTime: Duration?
    public let maximumResponseBytes: Int
    /// Called as the body is sent and the answer received (from any thread).
    public let progress: (@Sendable (TransferProgress) -> Void)?
    /// One pooled client per TLS profile (client identity and trust), made on first use.
    private let clients = Mutex<[TLSProfile: HTTPClient]>([:])
    /// The client for requests that left the endpoint: no client certificate, the system's roots.
    private let plainClient = Mutex<HTTPClient?>(nil)

    /// When a busy or failing server (429, 502, 503, 504) is asked again.
    public struct RetryPolicy: Sendable {
        /// Further attempts after the first (0: none).
        public var retries: Int
        /// Also retry methods that are not idempotent (POST, PATCH); off by default, since the
        /// server may have acted on the first attempt.
        public var nonIdempotent: Bool
        /// The wait before retry n (1-based) is `base * 2^(n-1)`, unless the answer's `Retry-After`
        /// says otherwise; never more than `maximumWait`.
        public var base: Duration
        public var maximumWait: Duration

        public init(
            retries: Int = 2, nonIdempotent: Bool = false, base: Duration = .milliseconds(500),
            maximumWait: Duration = .seconds(30)
        ) {
            self.retries = retries
            self.nonIdempotent = nonIdempotent
            self.base = base
            self.maximumWait = maximumWait
        }

        static let statuses: Set<Int> = [429, 502, 503, 504]

        /// An IMF-fixdate (RFC 9110 section 5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
        static func httpDate(_ text: String) -> Date? {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            return formatter.date(from: text)
        }
        static let idempotentMethods: Set<String> = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]

        /// The wait before retry `attempt`, from `Retry-After` (seconds or an HTTP date) when present.
        func wait(before attempt: Int, retryAfter: String?, now: Date) -> Duration {
            var wait = base * Int(1 << min(attempt - 1, 16))
            if let retryAfter = retryAfter?.trimmingCharacters(in: .whitespaces) {
                if let seconds = Int(retryAfter), seconds >= 0 {
                    wait = .seconds(seconds)
                } else if let date = Self.httpDate(retryAfter) {
                    wait = .milliseconds(max(0, Int(date.timeIntervalSince(now) * 1000)))
                }
            }
            return min(wait, maximumWait)
        }
    }

    public let retry: RetryPolicy

    /// Called with each decorated request before it is sent (the CLI warns there about a client
    /// certificate that is about to expire).
    let willSend: (@Sendable (DecoratedRequest) -> Void)?

    /// Which redirects (301, 302, 303, 307, 308 with a `Location`) are followed.
    public struct RedirectPolicy: Sendable {
        public enum Mode: String, Sendable, CaseIterable {
            /// No redirect is followed: the 3xx answer is returned as it came.
            case off
            /// Redirects inside the named credential's endpoint are followed with the credential;
            /// one that leaves it is an error naming the credential and the target host.
            case refuse
            /// As `refuse`, but a redirect that leaves the endpoint is followed as a plain request:
            /// no `Authorization`, no credential headers, no client certificate.
            case dropCredentials = "drop-credentials"
        }

        public var mode: Mode
        /// Redirects followed at most, in one call.
        public var maximum: Int

        public init(mode: Mode = .refuse, maximum: Int = 5) {
            self.mode = mode
            self.maximum = maximum
        }

        static let statuses: Set<Int> = [301, 302, 303, 307, 308]

        /// The method after a redirect, and whether the body goes along: 303 becomes GET (HEAD
        /// stays HEAD), and so do 301 and 302 after a POST (RFC 9110 section 15.4, as browsers and
        /// curl do); 307 and 308 keep both.
        static func method(after status: Int, _ method: String) -> (method: String, keepsBody: Bool) {
            switch status {
            case 303 where method != "HEAD": ("GET", false)
            case 301 where method == "POST", 302 where method == "POST": ("GET", false)
            default: (method, true)
            }
        }
    }

    public let redirects: RedirectPolicy

    public init(
        engine: SigningEngine, connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(60),
        maximumTime: Duration? = nil,
        maximumResponseBytes: Int = 64 << 20, retry: RetryPolicy = RetryPolicy(),
        redirects: RedirectPolicy = RedirectPolicy(),
        progress: (@Sendable (TransferProgress) -> Void)? = nil,
        willSend: (@Sendable (DecoratedRequest) -> Void)? = nil
    ) {
        self.engine = engine
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.maximumTime = maximumTime
        self.maximumResponseBytes = maximumResponseBytes
        self.retry = retry
        self.redirects = redirects
        self.willSend = willSend
        self.progress = progress
    }

    /// Decorates `request` for `user`, sends it, handles a refused credential (refresh once, retry
    /// once), asks a busy server again as ``retry`` allows and follows redirects as ``redirects``
    /// says, all within ``maximumTime``.
    ///
    /// With `body`, the body is streamed from it and `request.body` is `.none` (for SigV4 a file is
    /// hashed first, unless the credential signs `UNSIGNED-PAYLOAD`), `.sha256` (the caller's hash)
    /// or `.streamed`. With `download`, the final answer's body, when its status is 2xx, is handed
    /// to it chunk by chunk instead of being held in memory (no ``maximumResponseBytes`` limit);
    /// other answers (errors, redirects, retries) are read into memory as usual.
    public func send(
        _ request: OutboundRequest, body: StreamedBody? = nil, as user: String? = nil,
        download: (@Sendable (Data) async throws -> Void)? = nil
    ) async throws -> Response {
        try await send(request, body: body, as: user, download: download.map { Download(body: $0) })
    }

    /// Where the final answer goes when its status is 2xx: its status and headers to `head`, then
    /// its body to `body` chunk by chunk, as they arrive (a proxy streams them on to its caller).
    public struct Download: Sendable {
        /// The final answer's status line and headers, and the principal its request was decorated
        /// with (`nil` after a redirect that left the endpoint: then it was sent without credentials).
        public struct Head: Sendable {
            public var status: Int
            public var headers: [(name: String, value: String)]
            public var principal: PrincipalRef?
        }

        public var head: @Sendable (Head) async throws -> Void
        public var body: @Sendable (Data) async throws -> Void

        public init(
            head: @escaping @Sendable (Head) async throws -> Void = { _ in },
            body: @escaping @Sendable (Data) async throws -> Void
        ) {
            self.head = head
            self.body = body
        }
    }

    /// ``send(_:body:as:download:)`` with the 2xx answer's head and body handed to `download`.
    public func send(
        _ request: OutboundRequest, body: StreamedBody? = nil, as user: String? = nil, download: Download?
    ) async throws -> Response {
        guard let maximumTime else { return try await exchange(request, body: body, as: user, download: download) }
        let credential = try engine.namedCredential(of: request)
        return try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask { try await self.exchange(request, body: body, as: user, download: download) }
            group.addTask {
                try await Task.sleep(for: maximumTime)
                return nil
            }
            defer { group.cancelAll() }
            guard let response = try await group.next() ?? nil else {
                throw SigilError(
                    .transportFailed,
                    "\(request.method) to named credential \(credential) timed out after \(Self.seconds(maximumTime)) s (maximum time)"
                )
            }
            return response
        }
    }

    /// What goes on the wire: a decorated request, or a plain one after a redirect left the
    /// endpoint (then `decorated` is `nil`).
    struct Wire {
        var method: String
        var url: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]?
        var stream: StreamedBody?
        /// Where a 2xx body goes instead of memory.
        var download: Download?
        var decorated: DecoratedRequest?
        /// Who is called, for messages.
        var target: String

        init(_ decorated: DecoratedRequest, stream: StreamedBody?, download: Download?) {
            self.download = download
            method = decorated.method
            url = decorated.url
            headers = decorated.headers
            body = decorated.body
            self.stream = stream
            self.decorated = decorated
            target = "named credential \(decorated.namedCredential)"
        }

        init(
            plain method: String, url: String, host: String, headers: [(name: String, value: String)], body: [UInt8]?,
            stream: StreamedBody?,
            download: Download?, from credential: String
        ) {
            self.download = download
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
            self.stream = stream
            target = "host \(host) (redirected from named credential \(credential), sent without credentials)"
        }
    }

    private func exchange(
        _ request: OutboundRequest, body stream: StreamedBody?, as user: String?,
        download: Download?
    ) async throws -> Response {
        var request = request
        var stream = stream
        if let stream { request.body = try await declaredBody(request, stream, as: user) }
        var followed = 0
        // The request decorated last: a redirect inside its endpoint is decorated again through
        // the same route and principal, without reading the catalog again.
        var previous: DecoratedRequest?
        while true {
            let (decorated, response) = try await sendDecorated(
                request, stream: stream, as: user, after: previous, download: download)
            previous = decorated
            guard redirects.mode != .off, let location = redirectLocation(response) else { return response }
            let credential = decorated.namedCredential
            let target = try engine.redirect(from: decorated, to: location)
            try countRedirect(&followed, to: target.host, credential: credential)
            guard target.callout != nil || redirects.mode == .dropCredentials else {
                throw SigilError(
                    .calloutRefused,
                    "named credential \(credential): the server redirected (\(response.status)) to host \(target.host), outside the credential's endpoint; not followed (redirects: refuse)"
                )
            }
            let next = RedirectPolicy.method(after: response.status, request.method)
            request.method = next.method
            if !next.keepsBody {
                request.body = .none
                stream = nil
                request.headers.removeAll { $0.name.lowercased() == "content-type" }
            } else if stream?.replayable == false {
                throw SigilError(
                    .transportFailed,
                    "named credential \(credential): cannot follow the \(response.status) redirect to host \(target.host): the body was read once from a stream and cannot be sent again"
                )
            }
            if let callout = target.callout {
                request.url = callout
                continue
            }
            // Leaving the endpoint: the caller's own headers only, without any the credential set.
            let credentialHeaders = Set(
                decorated.headers.filter { header in
                    !request.headers.contains { $0.name == header.name && $0.value == header.value }
                }.map { $0.name.lowercased() }
            ).union(["authorization", "proxy-authorization", "cookie"])
            let headers = request.headers.filter { !credentialHeaders.contains($0.name.lowercased()) }
            let bytes: [UInt8]? = if case .bytes(let bytes) = request.body { bytes } else { nil }
            let wire = Wire(
                plain: request.method, url: target.url, host: target.host, headers: headers, body: bytes,
                stream: stream, download: download, from: credential)
            return try await followPlain(wire, followed: followed, credential: credential)
        }
    }

    /// Redirects after leaving the endpoint: every later request is plain, even one that leads back.
    private func followPlain(_ wire: Wire, followed: Int, credential: String) async throws -> Response {
        var wire = wire
        var followed = followed
        while true {
            let response = try await transmitRetrying(wire)
            guard let location = redirectLocation(response) else { return response }
            let target = try engine.redirect(from: wire.url, namedCredential: credential, to: location)
            try countRedirect(&followed, to: target.host, credential: credential)
            let next = RedirectPolicy.method(after: response.status, wire.method)
            wire.method = next.method
            if !next.keepsBody {
                (wire.body, wire.stream) = (nil, nil)
                wire.headers.removeAll { $0.name.lowercased() == "content-type" }
            } else if wire.stream?.replayable == false {
                throw SigilError(
                    .transportFailed,
                    "\(wire.target): cannot follow the \(response.status) redirect: the body was read once from a stream and cannot be sent again"
                )
            }
            wire.url = target.url
            wire.target =
                "host \(target.host) (redirected from named credential \(credential), sent without credentials)"
        }
    }

    private func countRedirect(_ followed: inout Int, to host: String, credential: String) throws {
        guard followed < redirects.maximum else {
            throw SigilError(
                .transportFailed,
                "named credential \(credential): more than \(redirects.maximum) redirects (the last to host \(host))")
        }
        followed += 1
    }

    private func redirectLocation(_ response: Response) -> String? {
        guard RedirectPolicy.statuses.contains(response.status) else { return nil }
        return response.headers.first { $0.name.lowercased() == "location" }?.value
    }

    /// The body the engine signs for a streamed one: a file's SHA-256 when the credential signs the
    /// payload, else "streamed" (`UNSIGNED-PAYLOAD` for SigV4, nothing for the other protocols).
    private func declaredBody(_ request: OutboundRequest, _ stream: StreamedBody, as user: String?) async throws
        -> OutboundRequest.Body
    {
        switch request.body {
        case .sha256, .streamed:
            return request.body
        case .bytes:
            throw SigilError(.invalidRequest, "a request has both a body in memory and a streamed body")
        case .none:
            if stream.replayable, try engine.signsPayloadHash(request, as: user) {
                return .sha256(try await stream.sha256())
            }
            return .streamed
        }
    }

    private func sendDecorated(
        _ request: OutboundRequest, stream: StreamedBody?, as user: String?, after previous: DecoratedRequest?,
        download: Download?
    ) async throws -> (DecoratedRequest, Response) {
        let decorated =
            if let previous {
                try await engine.decorate(request, as: user, reusing: previous)
            } else {
                try await engine.decorate(request, as: user)
            }
        willSend?(decorated)
        var response = try await transmitRetrying(Wire(decorated, stream: stream, download: download))
        guard stream?.replayable != false,
            try await engine.rejected(decorated, status: response.status, body: response.body)
        else {
            return (decorated, response)
        }
        let again = try await engine.decorate(request, as: user, reusing: decorated)
        willSend?(again)
        response = try await transmitRetrying(Wire(again, stream: stream, download: download))
        response.retried = true
        return (again, response)
    }

    private func transmitRetrying(_ request: Wire) async throws -> Response {
        var response = try await transmit(request)
        let allowed =
            (retry.nonIdempotent || RetryPolicy.idempotentMethods.contains(request.method.uppercased()))
            && request.stream?.replayable != false
        var attempt = 0
        while allowed, attempt < retry.retries, RetryPolicy.statuses.contains(response.status) {
            attempt += 1
            let retryAfter = response.headers.first { $0.name.lowercased() == "retry-after" }?.value
            try await Task.sleep(for: retry.wait(before: attempt, retryAfter: retryAfter, now: Date()))
            response = try await transmit(request)
        }
        return response
    }

    /// Closes every client's connections.
    public func shutdown() async throws {
        let all = clients.withLock { clients -> [HTTPClient] in
            defer { clients = [:] }
            return Array(clients.values)
        }
        let plain = plainClient.withLock { client -> HTTPClient? in
            defer { client = nil }
            return client
        }
        for client in all + (plain.map { [$0] } ?? []) { try await client.shutdown() }
    }

    private func client(for request: Wire) throws -> HTTPClient {
        let makeConfiguration = { (tls: TLSConfiguration) in
            HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow,
                timeout: .init(
                    connect: .nanoseconds(Self.nanoseconds(self.connectTimeout)),
                    read: .nanoseconds(Self.nanoseconds(self.readTimeout)))
            )
        }
        guard let decorated = request.decorated else {
            return plainClient.withLock { client in
                if let client { return client }
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.minimumTLSVersion = .tlsv12
                let created = HTTPClient(eventLoopGroupProvider: .singleton, configuration: makeConfiguration(tls))
                client = created
                return created
            }
        }
        let profile = TLSProfile(decorated)
        return try clients.withLock { clients in
            if let client = clients[profile] { return client }
            var configuration = makeConfiguration(try profile.configuration(decorated))
            if let verifier = try profile.pinVerifier(decorated) {
                // Checked on each new connection before any request is written to it (see PinVerifier).
                configuration.http1_1ConnectionDebugInitializer = { verifier.check($0) }
                configuration.http2ConnectionDebugInitializer = { verifier.check($0) }
                // A key that is not pinned stays so: fail at once instead of reconnecting until the deadline.
                configuration.connectionPool.retryConnectionEstablishment = false
            }
            let created = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[profile] = created
            return created
        }
    }

    private func transmit(_ request: Wire) async throws -> Response {
        try RequestTarget.check(request.url, for: "\(request.method) to \(request.target)")
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        if let stream = request.stream {
            let total = try stream.length()
            outgoing.body = .stream(
                stream.chunks(total: total, progress: progress), length: total.map { .known(Int64($0)) } ?? .unknown)
        } else if let body = request.body {
            outgoing.body = .bytes(ByteBuffer(bytes: body))
        }
        let client = try client(for: request)
        let failure = "\(request.method) to \(request.target)"
        do {
            // Time limits: connect and read on the client, the whole call in send.
            let response = try await client.execute(outgoing, deadline: .distantFuture)
            let total = response.headers.first(name: "content-length").flatMap { Int($0) }
            let status = Int(response.status.code)
            // A 2xx is never retried, redirected or refused (a refresh trigger is a 4xx), so it is
            // the final answer: its body may go straight to the caller.
            if let download = request.download, (200..<300).contains(status) {
                try await download.head(
                    Download.Head(
                        status: status, headers: response.headers.map { ($0.name, $0.value) },
                        principal: request.decorated?.principal))
                var received = 0
                for try await chunk in response.body {
                    received += chunk.readableBytes
                    try await download.body(Data(chunk.readableBytesView))
                    progress?(TransferProgress(direction: .download, bytes: received, total: total))
                }
                return Response(
                    status: status, headers: response.headers.map { ($0.name, $0.value) },
                    principal: request.decorated?.principal, body: [], retried: false)
            }
            if let total, total > maximumResponseBytes { throw NIOTooManyBytesError(maxBytes: maximumResponseBytes) }
            var body = ByteBuffer()
            for try await var chunk in response.body {
                guard body.readableBytes + chunk.readableBytes <= maximumResponseBytes else {
                    throw NIOTooManyBytesError(maxBytes: maximumResponseBytes)
                }
                body.writeBuffer(&chunk)
                progress?(TransferProgress(direction: .download, bytes: body.readableBytes, total: total))
            }
            return Response(
                status: status, headers: response.headers.map { ($0.name, $0.value) },
                principal: request.decorated?.principal, body: Array(buffer: body), retried: false)
        } catch let error as HTTPClientError {
            switch error {
            case .connectTimeout, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout:
                throw SigilError(
                    .transportFailed,
                    "\(failure): connecting timed out after \(Self.seconds(connectTimeout)) s (connect timeout)")
            case .readTimeout:
                throw SigilError(
                    .transportFailed,
                    "\(failure): timed out after \(Self.seconds(readTimeout)) s without data from the server")
            default:
                throw SigilError(.transportFailed, "\(failure): \(error.shortDescription)")
            }
        } catch let error as NIOSSLError {
            throw SigilError(.transportFailed, "\(failure): TLS failed: \(TLSProfile.describe(error))")
        } catch let error as BoringSSLError {
            throw SigilError(.transportFailed, "\(failure): TLS failed: \(TLSProfile.describe(error))")
        } catch is NIOTooManyBytesError {
            throw SigilError(.transportFailed, "\(failure): the response is larger than \(maximumResponseBytes) bytes")
        } catch let mismatch as PinVerifier.Mismatch {
            throw SigilError(
                .transportFailed,
                """
                \(failure): TLS failed: the server's key is not pinned \
                (no certificate of its chain has a key listed in trust.pins); the server's certificate \(mismatch.subject) has pin \(mismatch.pin)
                """)
        } catch let error as SigilError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as NIOConnectionError {
            // DNS and connect failures: the first cause in words (NIO's error prints only its type).
            let cause =
                error.connectionErrors.first.map { "\($0.error)" } ?? error.dnsAError.map { "name resolution: \($0)" }
                ?? "no address"
            throw SigilError(
                .transportFailed, "\(failure): connecting to \(error.host):\(error.port) failed (\(cause))")
        } catch let error as IOError {
            throw SigilError(.transportFailed, "\(failure): the connection failed (\(error.description))")
        } catch {
            throw SigilError(.transportFailed, "\(failure): \(type(of: error))")
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    /// A duration in seconds for messages: `1`, `0.5`.
    static func seconds(_ duration: Duration) -> String {
        let value = Double(nanoseconds(duration)) / 1e9
        return value == value.rounded() ? String(Int(value)) : String(format: "%g", value)
    }
}

extension SigilError.Code {
    /// The request could not be sent, or its answer not read (connection, timeout, size).
    public static let transportFailed = Self("transport-failed")
}
