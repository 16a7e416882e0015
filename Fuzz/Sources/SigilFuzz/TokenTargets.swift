import Foundation

@testable import SigilCore
@testable import SigilTokens

/// `token-response`: a token endpoint's JSON answer (RFC 6749 sections 5.1 and 5.2), parsed as
/// success and as error, and an accepted answer turned into the issued credential that is sealed.
enum TokenResponseTarget {
    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        let body = Array(input)
        if let answer = TokenResponse.error(in: body) { _ = answer.message }
        let response: TokenResponse
        do {
            response = try TokenResponse(parsing: body, purpose: "fuzz")
        } catch {
            return
        }
        let now = Int64(Date().timeIntervalSince1970)
        let issued = response.credential(
            obtainedAt: now, keepingRefreshToken: SecretBytes(utf8: "previous-refresh", lockingMemory: false))
        if let expiresAt = issued.expiresAt, expiresAt <= now {
            FuzzCheck.fail("an accepted token expires before it was obtained")
        }
    }
}

/// `sts-xml`: an AWS query-protocol answer (XML), parsed and read as `AssumeRoleProvider` and
/// `IAMAccessKeys` read it: the error for a refusal, the four credential fields and the expiry of
/// AssumeRole, the key of CreateAccessKey, the members of ListAccessKeys, GetCallerIdentity's ARN.
enum STSTarget {
    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        let document = AWSQueryResponse(parsing: Array(input))
        if let error = document.error { _ = "\(error.code): \(error.message)".sanitizedForMessage.prefix(400) }
        _ = document.values(in: "AccessKey")["SecretAccessKey"]
        _ = document.values(in: "GetCallerIdentityResult")["Arn"]
        for member in document.members {
            _ = member["CreateDate"].flatMap { try? Date($0, strategy: .iso8601) }
        }
        guard document.values["AccessKeyId"] != nil, document.values["SecretAccessKey"] != nil,
            document.values["SessionToken"] != nil, let expiration = document.values["Expiration"],
            let expires = AssumeRoleProvider.parseExpiration(expiration)
        else { return }
        _ = Int64(Date().timeIntervalSince1970)
        _ = Int64(expires.timeIntervalSince1970)
    }
}
