import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SigilCore
import SigilModel

/// Receives the authorization callback of a native app (RFC 8252 section 7.3): a one-shot HTTP
/// listener on the loopback address and port of the redirect URI, which answers the browser with a
/// short page and returns the callback's query parameters.
public enum LoopbackRedirect {
    /// Listens on `redirectURI` (an `http` loopback URL), calls `listening` once it accepts
    /// connections, and returns the query of the first request to its path carrying `code` or
    /// `error`. Gives up after `timeout`.
    public static func receive(redirectURI: String, timeout: Duration, listening: @Sendable () -> Void) async throws -> [String: String] {
        guard let url = URL(string: redirectURI), url.scheme == "http", let host = url.host, TokenEndpointClient.isLoopback(host), let port = url.port else {
            throw SigilError(.invalidConfiguration, "redirectUri must be an http URL on a loopback address with a port (e.g. http://127.0.0.1:53682/callback) for a login from the command line")
        }
        let path = url.path.isEmpty ? "/" : url.path
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: [String: String].self)
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(CallbackHandler(path: path, promise: promise))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            throw SigilError(.providerUnavailable, "cannot listen on \(host):\(port) for the authorization callback (is another login running?)")
        }
        listening()
        do {
            let query = try await withThrowingTaskGroup(of: [String: String]?.self) { tasks in
                tasks.addTask { try await promise.futureResult.get() }
                tasks.addTask { try await Task.sleep(for: timeout); return nil }
                defer { tasks.cancelAll() }
                guard let first = try await tasks.next(), let query = first else {
                    throw SigilError(.providerUnavailable, "no authorization callback arrived within \(timeout.components.seconds) seconds")
                }
                return query
            }
            try? await channel.close()
            return query
        } catch {
            promise.fail(error)
            try? await channel.close()
            throw error
        }
    }

    private final class CallbackHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let path: String
        let promise: EventLoopPromise<[String: String]>
        var query: [String: String]?

        init(path: String, promise: EventLoopPromise<[String: String]>) {
            self.path = path
            self.promise = promise
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                query = nil
                if let components = URLComponents(string: head.uri), components.path == path {
                    let items = (components.queryItems ?? []).compactMap { item in item.value.map { (item.name, $0) } }
                    let values = Dictionary(items, uniquingKeysWith: { first, _ in first })
                    if values["code"] != nil || values["error"] != nil { query = values }
                }
            case .body:
                break
            case .end:
                let found = query != nil
                let text = found ? "Sigil received the authorization. You can close this window.\n" : "Not found.\n"
                var headers = HTTPHeaders([("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "\(text.utf8.count)"), ("Connection", "close")])
                headers.add(name: "Cache-Control", value: "no-store")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                let query = self.query, promise = self.promise, channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                    channel.close(promise: nil)
                    if let query { promise.succeed(query) }
                }
            }
        }
    }
}
