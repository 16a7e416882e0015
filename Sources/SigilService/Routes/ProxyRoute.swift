import AsyncAlgorithms
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SigilCore
import SigilHTTP
import SigilSigning
import SigilStore

/// `ANY /v1/proxy/{namedCredential}/{path...}`: the caller's request, decorated for the caller (or,
/// with `Sigil-Act-As`, another user they may act as), sent to the named credential's endpoint by the
/// executor, with `sigil call`'s rules: retries, one refresh and retry when the credential is refused,
/// redirects inside the endpoint, mTLS. Bodies stream both ways: a request body over 8 MiB, or of
/// unknown length, is streamed to the upstream (then it is sent once, never retried), and a 2xx
/// answer streams back as it arrives. The caller's own `Authorization` and cookies never reach the
/// upstream, and the upstream's cookies never reach the caller.
enum ProxyRoute {
    static let prefix = "/v1/proxy/"
    /// A header that names the user to act as (an app granted actAs, or an admin).
    static let actAsHeader = "Sigil-Act-As"
    /// Bodies up to this size are read first: they can be retried and their SHA-256 signed (SigV4).
    static let bufferedBodyLimit = 8 << 20

    /// Request headers never forwarded: the caller's own credentials and cookies, hop-by-hop fields
    /// (RFC 9110, section 7.6.1), and what the executor sets itself.
    static let droppedRequestHeaders: Set<String> = [
        "authorization", "proxy-authorization", "cookie", "host", "content-length", "connection", "keep-alive", "te",
        "trailer", "transfer-encoding", "upgrade", "proxy-connection", "expect", actAsHeader.lowercased(),
    ]
    /// Response headers never passed back: hop-by-hop fields, framing the server sets itself, and
    /// cookies (they would be set for Sigil's own origin).
    static let droppedResponseHeaders: Set<String> = [
        "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection",
        "content-length", "set-cookie", "set-cookie2",
    ]

    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    static func add(to routes: inout RouteTable, state: ServiceState) {
        for method in methods {
            routes.add(method, "/v1/proxy/:credential", .member) { request, context in
                try await proxy(request, context: context, state: state)
            }
            routes.add(method, "/v1/proxy/:credential/**", .member) { request, context in
                try await proxy(request, context: context, state: state)
            }
        }
    }

    private enum Event: Sendable {
        case head(Executor.Download.Head)
        case finished(Result<Executor.Response, any Error>)
    }

    static func proxy(_ request: Request, context: ServiceContext, state: ServiceState) async throws -> Response {
        let caller = context.caller!
        let credential = try context.parameters.decoded("credential")
        let user = try state.actingUser(caller, as: request.headers[HTTPField.Name(actAsHeader)!])
        // The raw path after the credential's segment, as the caller encoded it, and the query.
        let path = String(request.uri.path.dropFirst(prefix.count).drop { $0 != "/" })
        let url = "callout:\(credential)\(path)" + (request.uri.query.map { "?\($0)" } ?? "")
        let connectionNamed = Set(
            (request.headers[.connection] ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            })
        let headers = request.headers.compactMap { field -> (name: String, value: String)? in
            let name = field.name.canonicalName
            guard !droppedRequestHeaders.contains(name), !connectionNamed.contains(name) else { return nil }
            return (field.name.rawName, field.value)
        }
        var request = request
        var body = OutboundRequest.Body.none
        var stream: StreamedBody?
        let length = request.headers[.contentLength].flatMap { Int($0) }
        if let length, length <= bufferedBodyLimit {
            let buffer = try await request.collectBody(upTo: bufferedBodyLimit)
            if buffer.readableBytes > 0 { body = .bytes(Array(buffer: buffer)) }
        } else if length != nil || request.headers[.transferEncoding] != nil {
            stream = .chunks(ChunkSource(request.body))
        }
        let outbound = try OutboundRequest.checked(
            method: request.method.rawValue, url: url, headers: headers, body: body)

        let (events, eventSink) = AsyncStream<Event>.makeStream()
        let chunks = AsyncThrowingChannel<ByteBuffer, any Error>()
        let exchange = Task {
            do {
                let response = try await state.executor.send(
                    outbound, body: stream, as: user,
                    download: Executor.Download(
                        head: { head in eventSink.yield(.head(head)) },
                        body: { data in
                            await chunks.send(ByteBuffer(bytes: data))
                            try Task.checkCancellation()
                        }))
                eventSink.yield(.finished(.success(response)))
                chunks.finish()
            } catch {
                eventSink.yield(.finished(.failure(error)))
                chunks.fail(error)
            }
            eventSink.finish()
        }
        return try await withTaskCancellationHandler {
            var iterator = events.makeAsyncIterator()
            switch await iterator.next() {
            case .head(let head):
                state.recordUse(
                    .proxy, caller: caller, actingUser: user, method: outbound.method, url: outbound.url,
                    principal: head.principal, outcome: "status \(head.status)")
                return Response(
                    status: .init(code: head.status), headers: responseHeaders(head.headers),
                    body: ResponseBody { writer in
                        do {
                            for try await chunk in chunks { try await writer.write(chunk) }
                            try await writer.finish(nil)
                        } catch {
                            exchange.cancel()
                            throw error
                        }
                    })
            case .finished(.success(let response)):
                state.recordUse(
                    .proxy, caller: caller, actingUser: user, method: outbound.method, url: outbound.url,
                    principal: response.principal, outcome: "status \(response.status)")
                var headers = responseHeaders(response.headers)
                headers[.contentLength] = "\(response.body.count)"
                return Response(
                    status: .init(code: response.status), headers: headers,
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.body)))
            case .finished(.failure(let error)):
                state.recordUse(
                    .proxy, caller: caller, actingUser: user, method: outbound.method, url: outbound.url,
                    principal: nil, outcome: outcome(of: error))
                throw error
            case nil:
                throw CancellationError()
            }
        } onCancel: {
            exchange.cancel()
        }
    }

    static func responseHeaders(_ upstream: [(name: String, value: String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in upstream {
            guard !droppedResponseHeaders.contains(name.lowercased()), let fieldName = HTTPField.Name(name) else {
                continue
            }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return fields
    }
}
