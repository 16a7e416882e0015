import Metrics
import Prometheus

/// The service's metrics, in Prometheus's text format at `GET /metrics`: requests by route and
/// status, the latency of signing, token requests and failures per external credential, and the
/// authenticators' outcomes. Each server has its own registry (nothing global is bootstrapped), so
/// several servers in one process (the tests) keep their counts apart.
public final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        self.factory = factory
    }

    /// One request answered: `route` is its pattern (`/v1/sign`), never the raw path.
    func request(route: String, method: String, status: Int) {
        Counter(
            label: "sigil_http_requests_total",
            dimensions: [("route", route), ("method", method), ("status", "\(status)")], factory: factory
        ).increment()
    }

    /// How long decorating one request took (sign, presign, proxy before sending).
    func signed(kind: String, duration: Duration) {
        Metrics.Timer(label: "sigil_sign_duration_seconds", dimensions: [("kind", kind)], factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }

    /// An authenticator's verdict: `success`, `failure`.
    func authentication(_ authenticator: String, outcome: String) {
        Counter(
            label: "sigil_authentications_total", dimensions: [("authenticator", authenticator), ("outcome", outcome)],
            factory: factory
        ).increment()
    }

    /// A request that needed a token or STS credentials from a provider, and whether it failed.
    func tokenUse(externalCredential: String, failed: Bool) {
        Counter(
            label: "sigil_token_requests_total",
            dimensions: [("external_credential", externalCredential), ("outcome", failed ? "failure" : "success")],
            factory: factory
        ).increment()
    }

    /// The text format.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
