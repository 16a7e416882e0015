public import Logging

/// `StreamLogHandler.standardError`'s lines, with the metadata formatted only when a line is written.
///
/// Hummingbird gives every request's logger its own `hb.request.id`; `StreamLogHandler` formats all
/// of a logger's metadata each time one key is set, which cost about a tenth of a `/healthz` answer
/// (profiled under `scripts/benchmark-service`), for lines that are almost never written.
public struct ServiceLogHandler: LogHandler {
    private let stream: StreamLogHandler
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String) {
        stream = StreamLogHandler.standardError(label: label)
        metadataProvider = stream.metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var stream = stream
        stream.logLevel = logLevel
        stream.metadataProvider = metadataProvider
        stream.metadata = metadata
        stream.log(event: event)
    }
}
