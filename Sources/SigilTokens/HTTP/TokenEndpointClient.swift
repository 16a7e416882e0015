import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
public import SigilCore
import SigilModel
import Synchronization

/// The HTTP client for providers' token endpoints (STS, OAuth 2.0): redirects are never followed
/// (a redirect would carry a signed request or a client secret to another place), timeouts are
/// bounded, and response bodies are capped. Created on first use, so commands that never call a
/// provider never start one; ``shutdown()`` closes it.
public final class TokenEndpointClient: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var url: String
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public init(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8]) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
    }

    /// The longest a provider call may take, connecting included.
    public let timeout: Duration
    /// The largest response body read.
    public let maximumResponseBytes: Int
    private let client = Mutex<HTTPClient?>(nil)

    public init(timeout: Duration = .seconds(30), maximumResponseBytes: Int = 1 << 20) {
        self.timeout = timeout
        self.maximumResponseBytes = maximumResponseBytes
    }

    /// Sends `request` to a provider, described in errors as `purpose` (e.g. "STS AssumeRole for
    /// principal Billing/primary"). The body never appears in an error.
    public func send(_ request: Request, purpose: String) async throws -> Response {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        let client = self.client.withLock { client in
            if let client { return client }
            // TLS 1.2 at least, as for named credentials: a token request carries the client secret.
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            var configuration = HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow,
                timeout: .init(connect: .seconds(10), read: .seconds(30))
            )
            configuration.httpVersion = .automatic
            let created = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            client = created
            return created
        }
        do {
            let response = try await client.execute(
                outgoing, timeout: TimeAmount.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
            let body = try await response.body.collect(upTo: maximumResponseBytes)
            return Response(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                body: Array(buffer: body)
            )
        } catch let error as HTTPClientError {
            throw SigilError(
                .providerUnavailable, "\(purpose): \(Self.describe(error)) (\(Self.hostDescription(request.url)))")
        } catch let error as NIOTooManyBytesError {
            _ = error
            throw SigilError(.providerFailed, "\(purpose): the response is larger than \(maximumResponseBytes) bytes")
        } catch let error as NIOSSLError {
            let reason = if case .handshakeFailed(let reason) = error { "\(reason)" } else { "\(error)" }
            throw SigilError(
                .providerUnavailable,
                "\(purpose): TLS failed: \(TLSFailure.explain(reason)) (\(Self.hostDescription(request.url)))")
        } catch let error as BoringSSLError {
            throw SigilError(
                .providerUnavailable,
                "\(purpose): TLS failed: \(TLSFailure.explain("\(error)")) (\(Self.hostDescription(request.url)))")
        } catch let error as SigilError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw SigilError(
                .providerUnavailable,
                "\(purpose): \(Self.describe(other: error)) while calling \(Self.hostDescription(request.url))")
        }
    }

    /// Closes the connections, if any were opened.
    public func shutdown() async throws {
        if let client = self.client.withLock({ client -> HTTPClient? in
            defer { client = nil }
            return client
        }) {
            try await client.shutdown()
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        EndpointURL.isLoopback(host: host.lowercased())
    }

    static func hostDescription(_ url: String) -> String {
        guard let parsed = URL(string: url), let host = parsed.host else { return "the provider" }
        return parsed.port.map { "\(host):\($0)" } ?? host
    }

    /// A connection or parsing failure in words (NIO's errors print only their type name).
    static func describe(other error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            error.connectionErrors.first.map { "connecting failed (\($0.error))" } ?? "connecting failed"
        case is HTTPParserError:
            "the answer is not valid HTTP (cut short, or malformed)"
        case let error as IOError:
            "the connection failed (\(error.description))"
        default:
            "the call failed (\(type(of: error)))"
        }
    }

    static func describe(_ error: HTTPClientError) -> String {
        switch error {
        case .connectTimeout: "connecting timed out"
        case .readTimeout, .deadlineExceeded: "the provider did not answer in time"
        case .remoteConnectionClosed: "the provider closed the connection"
        default: "the call failed (\(error.shortDescription))"
        }
    }
}

extension SigilError.Code {
    /// A provider (STS, an OAuth 2.0 token endpoint) could not be reached or did not answer in time.
    public static let providerUnavailable = Self("provider-unavailable")
    /// A provider refused the request or answered with something Sigil cannot use.
    public static let providerFailed = Self("provider-failed")
}
