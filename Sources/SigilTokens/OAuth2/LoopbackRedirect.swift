import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SigilCore
import SigilModel
import SigilSigning
import Synchronization

/// Receives the authorization callback of a native app (RFC 8252 section 7.3): an HTTP listener on
/// the loopback address and port of the redirect URI, which answers the browser with a page that
/// says what happened and returns the callback's query parameters.
///
/// Only a callback carrying the login's own `state` (RFC 6749 section 10.12) ends the wait: any
/// other request (a forged or stale link, a browser's second tab, a probe) is answered and ignored,
/// so one stray request cannot abort the login. The wait ends at `timeout` or when the calling task
/// is cancelled, and the listener closes then: a later callback finds nothing listening.
public enum LoopbackRedirect {
    /// Listens on `redirectURI` (an `http` loopback URL), calls `listening` once it accepts
    /// connections, and returns the query (form-decoded: `+` is a space) of the first request to its
    /// path whose `state` is `state` and which carries `code` or `error`.
    public static func receive(
        redirectURI: String, state: String, timeout: Duration, listening: @Sendable () -> Void
    ) async throws -> [String: String] {
        guard let url = URL(string: redirectURI), url.scheme == "http", let host = url.host,
            TokenEndpointClient.isLoopback(host), let port = url.port
        else {
            throw SigilError(
                .invalidParameter,
                "redirectUri must be an http URL on a loopback address with a port (e.g. http://127.0.0.1:53682/callback) for a login from the command line"
            )
        }
        let path = url.path.isEmpty ? "/" : url.path
        let group = MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let promise = loop.makePromise(of: [String: String].self)
        let waiting = Waiting(promise)
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(
                            CallbackHandler(path: path, state: state, waiting: waiting))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            throw SigilError(
                .providerUnavailable,
                "cannot listen on \(host):\(port) for the authorization callback (is another login running?)")
        }
        let seconds = timeout.components.seconds
        let timer = loop.scheduleTask(
            in: .nanoseconds(seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        ) {
            waiting.fail(
                SigilError(
                    .providerUnavailable,
                    "no authorization callback arrived within \(seconds) seconds; the login was abandoned"))
        }
        listening()
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            waiting.fail(CancellationError())
        }
    }

    /// The one wait, completed once: by the right callback, the timeout, or cancellation.
    final class Waiting: Sendable {
        private let promise: EventLoopPromise<[String: String]>
        private let done = Mutex(false)

        init(_ promise: EventLoopPromise<[String: String]>) {
            self.promise = promise
        }

        /// Whether the login is still waiting.
        var isOpen: Bool { !done.withLock { $0 } }

        func succeed(_ query: [String: String]) {
            if done.withLock({ done in
                defer { done = true }
                return !done
            }) {
                promise.succeed(query)
            }
        }

        func fail(_ error: any Error) {
            if done.withLock({ done in
                defer { done = true }
                return !done
            }) {
                promise.fail(error)
            }
        }
    }

    /// `application/x-www-form-urlencoded` query parameters (RFC 6749 section 4.1.2 sends them so:
    /// `+` is a space); a name given twice keeps its first value.
    static func formQuery(_ query: Substring) -> [String: String] {
        var values: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String? {
                String(validating: PercentEncoding.decode(text, plusIsSpace: true), as: UTF8.self)
            }
            guard let name = decode(parts[0]), let value = decode(parts.count == 2 ? parts[1] : "") else { continue }
            if values[name] == nil { values[name] = value }
        }
        return values
    }

    /// The page the browser shows, and whether the callback ends the wait.
    static func answer(to uri: String, path: String, state expected: String, open: Bool) -> (
        status: HTTPResponseStatus, text: String, query: [String: String]?
    ) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts[0] == path else { return (.notFound, "Not found.", nil) }
        let query = parts.count == 2 ? formQuery(parts[1]) : [:]
        guard query["code"] != nil || query["error"] != nil else {
            return (
                .badRequest,
                "This is Sigil's authorization callback; it expects the provider's answer (code or error).", nil
            )
        }
        guard let state = query["state"],
            Array(state.utf8).withUnsafeBytes({ given in
                Array(expected.utf8).withUnsafeBytes { constantTimeEqual(given, $0) }
            })
        else {
            return (
                .badRequest,
                "Sigil ignored this callback: its state does not match the login in progress (a stale or forged link). Nothing was stored.",
                nil
            )
        }
        guard open else {
            return (
                .gone, "This login has already ended; start it again with `sigil auth login`. Nothing was stored.", nil
            )
        }
        if let error = query["error"] {
            let description = query["error_description"].map { ": \(String($0.sanitizedForMessage.prefix(300)))" } ?? ""
            return (
                .ok,
                "The provider did not authorize Sigil (\(error.sanitizedForMessage.prefix(80))\(description)). Nothing was stored; you can close this window.",
                query
            )
        }
        return (
            .ok,
            "Sigil received the authorization and is completing it; the terminal shows the result. You can close this window.",
            query
        )
    }

    private final class CallbackHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let path: String
        let state: String
        let waiting: Waiting
        var uri = ""

        init(path: String, state: String, waiting: Waiting) {
            self.path = path
            self.state = state
            self.waiting = waiting
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                uri = head.uri
            case .body:
                break
            case .end:
                let (status, text, query) = LoopbackRedirect.answer(
                    to: uri, path: path, state: state, open: waiting.isOpen)
                let body = text + "\n"
                var headers = HTTPHeaders([
                    ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "\(body.utf8.count)"),
                    ("Connection", "close"),
                ])
                headers.add(name: "Cache-Control", value: "no-store")
                headers.add(name: "Referrer-Policy", value: "no-referrer")
                context.write(
                    wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                    promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
                let waiting = self.waiting
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                    channel.close(promise: nil)
                    if let query { waiting.succeed(query) }
                }
            }
        }
    }
}
