public import Hummingbird
import NIOCore

/// What the service knows about one request besides the request itself: who sent it (once the
/// authenticator chain has run) and from which address.
public struct ServiceContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated caller, or `nil` for an anonymous one.
    public var caller: Caller?
    /// The client's IP address, for failure counting and logs.
    public let remoteAddress: String
    /// Why callers could not be authenticated at all (the catalog cannot be read), for the routes
    /// that need a caller to say.
    var catalogError: (any Error)?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// JSON request bodies (sign, presign, configuration) up to 8 MiB; the proxy streams its body.
    public var maxUploadSize: Int { 8 << 20 }
}
