import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
public import SigilCore
import SigilModel
public import SigilSigning
import Synchronization

/// Sends requests the engine decorates: the one place where Sigil's outbound calls leave the
/// process. When the resource refuses the issued credential a request carried (a 401, or the
/// external credential's `refreshOnStatus`/`refreshOnBody`), the credential is replaced once and the
/// request retried once, never more.
///
/// Redirects are not followed: a `Location` elsewhere would receive the credentials (the
/// response, redirect included, is returned as it came).
public final class Executor: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        /// Whether the first answer refused the credential and this is the retry's.
        public var retried: Bool
    }

    public let engine: SigningEngine
    public let timeout: Duration
    public let maximumResponseBytes: Int
    /// One pooled client per TLS profile (client identity and trust), made on first use.
    private let clients = Mutex<[TLSProfile: HTTPClient]>([:])

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

        public init(retries: Int = 2, nonIdempotent: Bool = false, base: Duration = .milliseconds(500), maximumWait: Duration = .seconds(30)) {
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

    public init(
        engine: SigningEngine, timeout: Duration = .seconds(60), maximumResponseBytes: Int = 64 << 20, retry: RetryPolicy = RetryPolicy(),
        willSend: (@Sendable (DecoratedRequest) -> Void)? = nil
    ) {
        self.engine = engine
        self.timeout = timeout
        self.maximumResponseBytes = maximumResponseBytes
        self.retry = retry
        self.willSend = willSend
    }

    /// Decorates `request` for `user`, sends it, handles a refused credential (refresh once, retry
    /// once), and asks a busy server again as ``retry`` allows.
    public func send(_ request: OutboundRequest, as user: String? = nil) async throws -> Response {
        let decorated = try await engine.decorate(request, as: user)
        willSend?(decorated)
        var response = try await transmitRetrying(decorated)
        guard try await engine.rejected(decorated, status: response.status, body: response.body) else { return response }
        let again = try await engine.decorate(request, as: user)
        willSend?(again)
        response = try await transmitRetrying(again)
        response.retried = true
        return response
    }

    private func transmitRetrying(_ request: DecoratedRequest) async throws -> Response {
        var response = try await transmit(request)
        let allowed = retry.nonIdempotent || RetryPolicy.idempotentMethods.contains(request.method.uppercased())
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
        let all = clients.withLock { clients -> [HTTPClient] in defer { clients = [:] }; return Array(clients.values) }
        for client in all { try await client.shutdown() }
    }

    private func transmit(_ request: DecoratedRequest) async throws -> Response {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        let profile = TLSProfile(request)
        let client = try clients.withLock { clients in
            if let client = clients[profile] { return client }
            var configuration = HTTPClient.Configuration(
                tlsConfiguration: try profile.configuration(request), redirectConfiguration: .disallow,
                timeout: .init(connect: .seconds(10), read: .seconds(60))
            )
            if let verifier = try profile.pinVerifier(request) {
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
        do {
            let response = try await client.execute(outgoing, timeout: .seconds(timeout.components.seconds))
            let body = try await response.body.collect(upTo: maximumResponseBytes)
            return Response(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Array(buffer: body), retried: false)
        } catch let error as HTTPClientError {
            throw SigilError(.transportFailed, "\(request.method) to named credential \(request.namedCredential): \(error.shortDescription)")
        } catch let error as NIOSSLError {
            throw SigilError(.transportFailed, "\(request.method) to named credential \(request.namedCredential): TLS failed: \(TLSProfile.describe(error))")
        } catch let error as BoringSSLError {
            throw SigilError(.transportFailed, "\(request.method) to named credential \(request.namedCredential): TLS failed: \(TLSProfile.describe(error))")
        } catch is NIOTooManyBytesError {
            throw SigilError(.transportFailed, "\(request.method) to named credential \(request.namedCredential): the response is larger than \(maximumResponseBytes) bytes")
        } catch let mismatch as PinVerifier.Mismatch {
            throw SigilError(.transportFailed, """
                \(request.method) to named credential \(request.namedCredential): TLS failed: the server's key is not pinned \
                (no certificate of its chain has a key listed in trust.pins); the server's certificate \(mismatch.subject) has pin \(mismatch.pin)
                """)
        } catch let error as SigilError {
            throw error
        } catch {
            throw SigilError(.transportFailed, "\(request.method) to named credential \(request.namedCredential): \(type(of: error))")
        }
    }
}

extension SigilError.Code {
    /// The request could not be sent, or its answer not read (connection, timeout, size).
    public static let transportFailed = Self("transport-failed")
}
