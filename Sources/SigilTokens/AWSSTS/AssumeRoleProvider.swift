import Crypto
import Foundation
import SigilCore
import SigilModel
import SigilSigning

/// AWS STS `AssumeRole` for a SigV4 principal with a `roleArn`: temporary credentials obtained with
/// the principal's stored keys, which then sign the principal's requests.
///
/// Parameters (principal, else external credential): `roleArn` (required), `externalId`,
/// `roleSessionName` (default `sigil-<principal>`), `durationSeconds` (900 to 43200; default 3600),
/// `stsEndpoint` (default `https://sts.<stsRegion>.amazonaws.com`), `stsRegion` (default the
/// credential's `region`, else `us-east-1`), `refreshMargin` (seconds before expiry at which new
/// credentials are obtained; default 300). Stored secrets used for the call: `accessKeyId`,
/// `secretAccessKey`, and `sessionToken` when the stored keys are themselves temporary.
struct AssumeRoleProvider: CredentialProvider {
    let client: TokenEndpointClient
    let clock: @Sendable () -> Date

    struct Parameters {
        var roleARN: String
        var externalID: String?
        var sessionName: String
        var duration: Int
        var endpoint: String
        var region: String
        var margin: Int64
    }

    func parameters(_ request: IssuanceRequest) throws -> Parameters {
        let owner = "principal \(request.key.principal)"
        guard let roleARN = request.parameter("roleArn"), roleARN.hasPrefix("arn:"), roleARN.split(separator: ":", omittingEmptySubsequences: false).count >= 6 else {
            throw SigilError(.invalidConfiguration, "\(owner): parameter roleArn must be a role ARN (arn:aws:iam::123456789012:role/NAME)")
        }
        let externalID = request.parameter("externalId")
        if let externalID, !(2...1224).contains(externalID.utf8.count) || !externalID.utf8.allSatisfy(Self.isSessionNameByte) {
            throw SigilError(.invalidConfiguration, "\(owner): parameter externalId must be 2 to 1224 characters of letters, digits and +=,.@:/-")
        }
        let sessionName = request.parameter("roleSessionName") ?? String("sigil-\(request.key.principal.principal)".prefix(64))
        guard (2...64).contains(sessionName.utf8.count), sessionName.utf8.allSatisfy(Self.isSessionNameByte), !sessionName.contains(":"), !sessionName.contains("/") else {
            throw SigilError(.invalidConfiguration, "\(owner): parameter roleSessionName must be 2 to 64 characters of letters, digits and +=,.@- (set one when the principal's name does not fit)")
        }
        let duration = try integer(request, "durationSeconds", default: 3600, range: 900...43_200, owner: owner)
        let region = request.parameter("stsRegion") ?? request.parameter("region") ?? "us-east-1"
        guard !region.isEmpty, region.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
            throw SigilError(.invalidConfiguration, "\(owner): the STS region must be lowercase letters, digits and '-'")
        }
        let endpoint = request.parameter("stsEndpoint") ?? "https://sts.\(region).amazonaws.com"
        _ = try TokenEndpointClient.checkEndpoint(endpoint, parameter: "stsEndpoint", owner: owner)
        let margin = try integer(request, "refreshMargin", default: 300, range: 0...3600, owner: owner)
        guard margin < duration else {
            throw SigilError(.invalidConfiguration, "\(owner): refreshMargin (\(margin) s) must be shorter than durationSeconds (\(duration) s)")
        }
        return Parameters(roleARN: roleARN, externalID: externalID, sessionName: sessionName, duration: duration, endpoint: endpoint, region: region, margin: Int64(margin))
    }

    private func integer(_ request: IssuanceRequest, _ name: String, default value: Int, range: ClosedRange<Int>, owner: String) throws -> Int {
        guard let text = request.parameter(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw SigilError(.invalidConfiguration, "\(owner): parameter \(name) must be a whole number of seconds from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    static func isSessionNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "+=,.@-_:/".utf8.contains(byte)
        }
    }

    func parametersDigest(_ request: IssuanceRequest) throws -> String {
        let p = try parameters(request)
        let text = ["aws-sts/1", p.roleARN, p.externalID ?? "", p.sessionName, "\(p.duration)", p.endpoint, p.region].joined(separator: "\u{0}")
        return Hex.encode(SHA256.hash(data: Array(text.utf8)))
    }

    func refreshMargin(_ request: IssuanceRequest) throws -> Int64 {
        try parameters(request).margin
    }

    func obtain(_ request: IssuanceRequest, previous: IssuedCredential?, now: Date) async throws -> IssuedCredential {
        let p = try parameters(request)
        let purpose = "STS AssumeRole of \(p.roleARN) for principal \(request.key.principal)"
        let accessKeyID = try request.requireStoredSecret("accessKeyId", for: purpose)
        let secretAccessKey = try request.requireStoredSecret("secretAccessKey", for: purpose)
        let sessionToken = try request.storedSecret("sessionToken")
        var form: [(name: String, value: String)] = [
            ("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", p.roleARN),
            ("RoleSessionName", p.sessionName), ("DurationSeconds", "\(p.duration)"),
        ]
        if let externalID = p.externalID { form.append(("ExternalId", externalID)) }
        let body = FormEncoding.encode(form)
        let signer = SigV4Signer(
            credentials: .init(
                accessKeyID: accessKeyID.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }, secretAccessKey: secretAccessKey,
                sessionToken: sessionToken.map { $0.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
            ),
            region: p.region, service: "sts"
        )
        let url = p.endpoint.hasSuffix("/") ? p.endpoint : p.endpoint + "/"
        let signed = signer.sign(SigV4Signer.Request(
            method: "POST", url: url,
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Accept", "application/xml")],
            payloadHash: Hex.encode(SHA256.hash(data: body))
        ), at: now)
        let response = try await client.send(.init(method: "POST", url: signed.url, headers: signed.headers, body: body), purpose: purpose)
        let document = STSResponse(parsing: response.body)
        guard response.status == 200 else {
            let detail = document.error.map { "\($0.code): \($0.message)" } ?? "no AWS error in the response"
            throw SigilError(.providerFailed, "\(purpose) was refused: HTTP \(response.status), \(ProviderText.redactingTokens(detail).sanitizedForMessage.prefix(400))")
        }
        guard let keyID = document.values["AccessKeyId"], let secret = document.values["SecretAccessKey"],
              let token = document.values["SessionToken"], let expiration = document.values["Expiration"],
              let expires = Self.parseExpiration(expiration)
        else {
            throw SigilError(.providerFailed, "\(purpose): the response lacks AccessKeyId, SecretAccessKey, SessionToken or a valid Expiration")
        }
        return IssuedCredential(
            kind: .awsSTS,
            fields: ["accessKeyId": keyID, "secretAccessKey": secret, "sessionToken": token],
            obtainedAt: Int64(clock().timeIntervalSince1970), expiresAt: Int64(expires.timeIntervalSince1970)
        )
    }

    /// `2026-11-30T12:00:00Z`, with or without fractional seconds.
    static func parseExpiration(_ value: SecretBytes) -> Date? {
        let text = value.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        return (try? Date(text, strategy: .iso8601)) ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }
}
