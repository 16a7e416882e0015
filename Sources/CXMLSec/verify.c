// See include/sigil_xmlsec.h. The rules, each to stop a known attack on SAML signatures:
// - no DTD (entity expansion, external entities), no network access while parsing;
// - the root is samlp:Response with exactly one saml:Assertion child and no EncryptedAssertion;
// - IDs are registered once each (a duplicate ID, the root of signature wrapping, is refused);
// - exactly one ds:Signature, a child of the Assertion or else of the Response, with exactly one
//   Reference whose URI is "#" + the ID of that parent (so the signature covers that element);
// - the key is the configured certificate's: any KeyInfo in the document is ignored;
// - only same-document references and the usual transforms and algorithms (no SHA-1, no XSLT).
#include "sigil_xmlsec.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/crypto.h>

static const xmlChar *PROTOCOL = BAD_CAST "urn:oasis:names:tc:SAML:2.0:protocol";
static const xmlChar *ASSERTION = BAD_CAST "urn:oasis:names:tc:SAML:2.0:assertion";

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int initialised = -1;

static void initialise(void) {
    xmlInitParser();
    if (xmlSecInit() < 0) return;
    if (xmlSecCheckVersion() != 1) return;
    if (xmlSecCryptoAppInit(NULL) < 0) return;
    if (xmlSecCryptoInit() < 0) return;
    initialised = 0;
}

static int fail(char *reason, size_t size, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(reason, size, format, arguments);
    va_end(arguments);
    return -1;
}

static int is(xmlNodePtr node, const xmlChar *name, const xmlChar *ns) {
    return node != NULL && node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, name) && node->ns != NULL &&
           xmlStrEqual(node->ns->href, ns);
}

static int count_children(xmlNodePtr parent, const xmlChar *name, const xmlChar *ns, xmlNodePtr *found) {
    int count = 0;
    for (xmlNodePtr child = parent->children; child != NULL; child = child->next) {
        if (is(child, name, ns)) {
            if (count == 0 && found != NULL) *found = child;
            count++;
        }
    }
    return count;
}

/// Registers the ID attribute of `node` and of every element below it; fails on a duplicate.
static int register_ids(xmlDocPtr doc, xmlNodePtr node) {
    for (; node != NULL; node = node->next) {
        if (node->type != XML_ELEMENT_NODE) continue;
        xmlAttrPtr id = xmlHasProp(node, BAD_CAST "ID");
        if (id != NULL) {
            xmlChar *value = xmlNodeListGetString(doc, id->children, 1);
            if (value == NULL) return -1;
            if (xmlGetID(doc, value) != NULL || xmlAddID(NULL, doc, value, id) == NULL) {
                xmlFree(value);
                return -1;
            }
            xmlFree(value);
        }
        if (register_ids(doc, node->children) < 0) return -1;
    }
    return 0;
}

static int count_signatures(xmlNodePtr node) {
    int count = 0;
    for (; node != NULL; node = node->next) {
        if (is(node, xmlSecNodeSignature, xmlSecDSigNs)) count++;
        if (node->type == XML_ELEMENT_NODE) count += count_signatures(node->children);
    }
    return count;
}

static int enable_algorithms(xmlSecDSigCtxPtr ctx) {
    xmlSecTransformId reference[] = {xmlSecTransformEnvelopedId, xmlSecTransformExclC14NId,
                                     xmlSecTransformExclC14NWithCommentsId, xmlSecTransformInclC14NId,
                                     xmlSecTransformSha256Id, xmlSecTransformSha384Id, xmlSecTransformSha512Id};
    xmlSecTransformId signature[] = {xmlSecTransformExclC14NId, xmlSecTransformInclC14NId,
                                     xmlSecTransformRsaSha256Id, xmlSecTransformRsaSha384Id,
                                     xmlSecTransformRsaSha512Id, xmlSecTransformEcdsaSha256Id,
                                     xmlSecTransformEcdsaSha384Id};
    for (size_t i = 0; i < sizeof(reference) / sizeof(reference[0]); i++)
        if (xmlSecDSigCtxEnableReferenceTransform(ctx, reference[i]) < 0) return -1;
    for (size_t i = 0; i < sizeof(signature) / sizeof(signature[0]); i++)
        if (xmlSecDSigCtxEnableSignatureTransform(ctx, signature[i]) < 0) return -1;
    return 0;
}

int sigil_xmlsec_verify_saml(const char *response, size_t response_length, const char *certificate_pem,
                             size_t certificate_length, char **assertion, size_t *assertion_length,
                             int *response_signed, char *reason, size_t reason_size) {
    pthread_once(&once, initialise);
    if (initialised != 0) return fail(reason, reason_size, "libxmlsec1 could not be initialised");
    if (response_length > (8u << 20) || certificate_length > (1u << 20))
        return fail(reason, reason_size, "the response or the certificate is too large");

    int result = -1;
    xmlDocPtr doc = NULL, out = NULL;
    xmlSecKeyPtr key = NULL;
    xmlSecDSigCtxPtr ctx = NULL;
    xmlChar *idValue = NULL;

    doc = xmlReadMemory(response, (int)response_length, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    if (doc == NULL) { fail(reason, reason_size, "the response is not well-formed XML"); goto done; }
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        fail(reason, reason_size, "the response has a DTD");
        goto done;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!is(root, BAD_CAST "Response", PROTOCOL)) {
        fail(reason, reason_size, "the document is not a samlp:Response");
        goto done;
    }
    xmlNodePtr theAssertion = NULL;
    if (count_children(root, BAD_CAST "Assertion", ASSERTION, &theAssertion) != 1 ||
        count_children(root, BAD_CAST "EncryptedAssertion", ASSERTION, NULL) != 0) {
        fail(reason, reason_size, "the response must hold exactly one (unencrypted) saml:Assertion");
        goto done;
    }
    if (register_ids(doc, root) < 0) {
        fail(reason, reason_size, "an ID appears twice, or is empty");
        goto done;
    }
    if (count_signatures(root) != 1) {
        fail(reason, reason_size, "the response must hold exactly one ds:Signature");
        goto done;
    }
    xmlNodePtr signatureNode = NULL, signedNode = NULL;
    if (count_children(theAssertion, xmlSecNodeSignature, xmlSecDSigNs, &signatureNode) == 1) {
        signedNode = theAssertion;
        *response_signed = 0;
    } else if (count_children(root, xmlSecNodeSignature, xmlSecDSigNs, &signatureNode) == 1) {
        signedNode = root;
        *response_signed = 1;
    } else {
        fail(reason, reason_size, "the signature must be a child of the Assertion or of the Response");
        goto done;
    }
    idValue = xmlGetProp(signedNode, BAD_CAST "ID");
    if (idValue == NULL) { fail(reason, reason_size, "the signed element has no ID"); goto done; }

    key = xmlSecCryptoAppKeyLoadMemory((const xmlSecByte *)certificate_pem, (xmlSecSize)certificate_length,
                                       xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
    if (key == NULL) { fail(reason, reason_size, "the IdP certificate cannot be read"); goto done; }
    ctx = xmlSecDSigCtxCreate(NULL);
    if (ctx == NULL) { fail(reason, reason_size, "cannot create a signature context"); goto done; }
    ctx->signKey = key;  // the configured key only: KeyInfo in the document is not used
    key = NULL;
    ctx->flags = XMLSEC_DSIG_FLAGS_STORE_SIGNEDINFO_REFERENCES | XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
    ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
    if (enable_algorithms(ctx) < 0) { fail(reason, reason_size, "cannot restrict the algorithms"); goto done; }
    if (xmlSecDSigCtxVerify(ctx, signatureNode) < 0 || ctx->status != xmlSecDSigStatusSucceeded) {
        fail(reason, reason_size, "the signature does not verify with the IdP's certificate");
        goto done;
    }
    if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1) {
        fail(reason, reason_size, "the signature must have exactly one reference");
        goto done;
    }
    xmlSecDSigReferenceCtxPtr reference = (xmlSecDSigReferenceCtxPtr)xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0);
    if (reference == NULL || reference->uri == NULL || reference->uri[0] != '#' ||
        !xmlStrEqual(reference->uri + 1, idValue)) {
        fail(reason, reason_size, "the signature does not cover the element it is in");
        goto done;
    }
    // The assertion alone, with the namespaces it uses declared on it.
    out = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr copy = xmlDocCopyNode(theAssertion, out, 1);
    if (out == NULL || copy == NULL) { fail(reason, reason_size, "out of memory"); goto done; }
    xmlDocSetRootElement(out, copy);
    xmlReconciliateNs(out, copy);
    xmlChar *buffer = NULL;
    int size = 0;
    xmlDocDumpMemory(out, &buffer, &size);
    if (buffer == NULL) { fail(reason, reason_size, "out of memory"); goto done; }
    *assertion = malloc((size_t)size + 1);
    if (*assertion == NULL) { xmlFree(buffer); fail(reason, reason_size, "out of memory"); goto done; }
    memcpy(*assertion, buffer, (size_t)size);
    (*assertion)[size] = 0;
    *assertion_length = (size_t)size;
    xmlFree(buffer);
    result = 0;

done:
    if (idValue != NULL) xmlFree(idValue);
    if (ctx != NULL) xmlSecDSigCtxDestroy(ctx);
    if (key != NULL) xmlSecKeyDestroy(key);
    if (out != NULL) xmlFreeDoc(out);
    if (doc != NULL) xmlFreeDoc(doc);
    return result;
}

void sigil_xmlsec_free(char *pointer) { free(pointer); }
