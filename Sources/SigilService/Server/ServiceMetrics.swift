import Foundation
import Metrics
import Prometheus
import Synchronization

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

    /// A principal's scheduled rotation step: `success` or `failure`.
    func rotation(outcome: String) {
        Counter(label: "sigil_rotations_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// The expiry calendar's dates (``ExpiryCalendar``) as `sigil_expiry_timestamp_seconds{what,item}`
    /// gauges (Unix seconds), replacing the previous set: what `sigil expiry` lists, for alerting.
    func expiry(_ entries: [(what: String, item: String, at: Date)]) {
        let dimensions = entries.map { [("what", $0.what), ("item", $0.item)] }
        expiryDimensions.withLock { previous in
            let current = Set(dimensions.map { $0.map { "\($0.0)=\($0.1)" }.joined(separator: ",") })
            for old in previous where !current.contains(old.key) {
                registry.unregisterGauge(old.value)
            }
            previous = [:]
            for (entry, dimension) in zip(entries, dimensions) {
                let gauge = registry.makeGauge(
                    descriptor: MetricNameDescriptor(
                        namespace: "sigil", metricName: "expiry_timestamp", unitName: "seconds",
                        helpText: "When a credential, secret or authorization expires or is due (Unix seconds)"),
                    labels: dimension)
                gauge.set(entry.at.timeIntervalSince1970)
                previous[dimension.map { "\($0.0)=\($0.1)" }.joined(separator: ",")] = gauge
            }
        }
    }

    private let expiryDimensions = Mutex<[String: Prometheus.Gauge]>([:])

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
