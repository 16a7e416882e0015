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

    public init(engine: SigningEngine, timeout: Duration = .seconds(60), maximumResponseBytes: Int = 64 << 20) {
        self.engine = engine
        self.timeout = timeout
        self.maximumResponseBytes = maximumResponseBytes
    }

    /// Decorates `request` for `user`, sends it, and handles a refused credential (refresh once,
    /// retry once).
    public func send(_ request: OutboundRequest, as user: String? = nil) async throws -> Response {
        let decorated = try await engine.decorate(request, as: user)
        let first = try await transmit(decorated)
        guard try await engine.rejected(decorated, status: first.status, body: first.body) else { return first }
        var second = try await transmit(try await engine.decorate(request, as: user))
        second.retried = true
        return second
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
            let created = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(
                tlsConfiguration: try profile.configuration(request), redirectConfiguration: .disallow,
                timeout: .init(connect: .seconds(10), read: .seconds(60))
            ))
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
