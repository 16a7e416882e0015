import AsyncHTTPClient
public import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import SigilCore
import SigilHTTP
import SigilModel
import SigilSigning
public import SigilStore
import SigilTokens
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The service over one open vault: its routes, each with its access rule, behind the error shape,
/// the metrics and the authenticator chain. `sigil serve` and the tests build it the same way.
public struct SigilServer {
    /// Every route and who may call it.
    public let routes: [RouteTable.Entry]
    public let metrics: ServiceMetrics
    let router: Router<ServiceContext>
    let state: ServiceState

    public init(vault: Vault, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() }) {
        let metrics = ServiceMetrics()
        let state = ServiceState(vault: vault, metrics: metrics, logger: logger, clock: clock)
        let throttle = FailureThrottle()
        let router = Router(context: ServiceContext.self)
        // Outermost first: count every answer, shape every error, then authenticate.
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.add(middleware: ErrorMiddleware<ServiceContext>())
        let chain = AuthenticatorChain(
            authenticators: [
                // The order of ../shared/seeds/000_*: platform session, directory Basic, Sigil's
                // own Basic and API keys, the browser's session (SAML sign-on or the login form),
                // anonymous.
                PlatformSessionAuthenticator(client: state.identityClient),
                DirectoryAuthenticator(throttle: throttle, pool: state.directoryPool),
                BasicAuthenticator(vault: vault, throttle: throttle),
                APIKeyAuthenticator(vault: vault, clock: clock),
                SessionAuthenticator(sessions: state.sessions),
            ], vault: vault, throttle: throttle, metrics: metrics)
        router.add(middleware: chain)
        var table = RouteTable(router: router)
        HealthRoutes.add(to: &table, state: state)
        SigningRoutes.add(to: &table, state: state)
        ProxyRoute.add(to: &table, state: state)
        ManagementRoutes.add(to: &table, state: state)
        RotationRoutes.add(to: &table, state: state)
        SAMLRoutes.add(to: &table, state: state)
        PageRoutes.add(to: &table, state: state, chain: chain)
        ConnectionPages.add(to: &table, state: state)
        OperatorPages.add(to: &table, state: state)
        self.routes = table.entries
        self.metrics = metrics
        self.router = router
        self.state = state
    }

    /// The application listening as `options` say. `onReady` runs once it accepts connections,
    /// with its URL (after the ready file, when there is one, is written).
    public func application(
        _ options: ServiceOptions, logger: Logger, onReady: @escaping @Sendable (String) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let tls = try options.tlsCertificate.map { certificate in
            try HTTPServerBuilder.tls(
                tlsConfiguration: try Self.tlsConfiguration(certificate: certificate, key: options.tlsKey!))
        }
        let scheme = tls == nil ? "http" : "https"
        let readyFile = options.readyFile
        let host = options.host
        let state = state
        return Application(
            router: router, server: tls ?? .http1(),
            configuration: .init(address: .hostname(host, port: options.port), serverName: nil),
            services: [Resources(state: state)]
                + (options.rotationInterval.map {
                    [RotationScheduler(state: state, interval: $0, spread: options.rotationSpread)] as [any Service]
                } ?? []),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                let url = "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
                state.publicURL = options.publicURL ?? url
                if let readyFile {
                    do {
                        try Self.writeReadyFile(readyFile, url: url)
                    } catch {
                        logger.error("cannot write the ready file \(readyFile.sanitizedForMessage): \(error)")
                    }
                }
                logger.info("sigil serve: listening on \(url)")
                await onReady(url)
            },
            logger: logger)
    }

    /// Serves until SIGTERM or SIGINT, then drains: no new connections, the requests in flight
    /// finish, the last use records are written.
    public func run(_ options: ServiceOptions, logger: Logger) async throws {
        readCatalog(logger: logger)
        let application = try application(options, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Reads the catalog once before listening, so that the ready file and the first callers find
    /// it in memory: on a catalog of 10,000 named credentials and 100,000 authorizations the whole
    /// read takes seconds, which would otherwise fall on the first request. A catalog that cannot be
    /// read does not stop the service from starting: `/readyz` then says why, and every request
    /// that needs the catalog is refused with the same error.
    func readCatalog(logger: Logger) {
        let started = ContinuousClock.now
        do {
            let catalog = try state.vault.catalog()
            let elapsed = (ContinuousClock.now - started).components
            let milliseconds = elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
            logger.info(
                "sigil serve: catalog read in \(milliseconds) ms (\(catalog.namedCredentials.count) named credentials, \(catalog.users.count) users)"
            )
        } catch {
            logger.error("sigil serve: the catalog cannot be read: \(outcome(of: error))")
        }
    }

    static func tlsConfiguration(certificate: String, key: String) throws -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(privateKey))
            configuration.minimumTLSVersion = .tlsv12
            return configuration
        } catch {
            throw SigilError(
                .invalidRequest,
                "cannot read the TLS certificate \(certificate.sanitizedForMessage) or key \(key.sanitizedForMessage): they must be PEM files"
            )
        }
    }

    /// `{"pid": ..., "url": ...}` and a newline, written whole (a temporary file renamed), so a
    /// reader never sees half of it.
    static func writeReadyFile(_ path: String, url: String) throws {
        struct Ready: Encodable {
            var pid: Int32
            var url: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(Ready(pid: getpid(), url: url)) + Data("\n".utf8)
        let temporary = path + ".tmp-\(getpid())"
        try data.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw SigilError(.storage, "cannot write \(path.sanitizedForMessage)")
        }
    }
}

/// What outlives requests: the use recorder, and the executor's and broker's connections. Shut down
/// after the server has drained (services stop in reverse order), so the last requests' records
/// are written.
struct Resources: Service {
    let state: ServiceState

    func run() async throws {
        try await state.recorder.run()
        state.connectFlows.cancelAll()
        try? await state.identityClient.shutdown()
        try? await state.directoryPool.shutdownGracefully()
        try? await state.executor.shutdown()
        try? await state.broker.shutdown()
    }
}

/// Counts every answer by route pattern, method and status.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = ServiceContext
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: ServiceContext, next: (Request, ServiceContext) async throws -> Response)
        async throws -> Response
    {
        let response = try await next(request, context)
        metrics.request(
            route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code)
        return response
    }
}
