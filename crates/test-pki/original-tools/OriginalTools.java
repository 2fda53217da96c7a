// Tests only: what the original StratusLab Java metadata library did when it signed and
// validated a document, rebuilt on the JDK's own XML-DSig and DOM (the library used the same
// javax.xml.crypto API), so that the tests can make documents exactly as the original
// `stratus-sign-metadata` wrote them and check ours the way the original
// `stratus-validate-metadata` and `stratus-download-image` did. Written for this project from
// the library's documented behaviour (see docs/compatibility.md); never for production.
//
//   java OriginalTools sign IN OUT P12 PASSWORD [EMAIL]
//       Keeps the last slreq:endorsement (emptied), removes every ds:Signature, fills the
//       endorsement from the certificate (dcterms:created now, an slreq:endorser with email,
//       subject and issuer; elements created without a prefix, as the library's DOM code did),
//       signs it (enveloped, RSA-SHA1, SHA-1 digest, inclusive C14N with comments, the
//       certificate in KeyInfo/X509Data) and writes it with the JDK's Transformer.
//       With MARKETPLACE_NOW=YYYY-MM-DDTHH:MM:SSZ in the environment, that is the endorsement date.
//   java OriginalTools validate FILE
//       The library's signature check: the first ds:Signature, a key selector that accepts
//       only RSA keys with rsa-sha1 (and DSA with dsa-sha1), core validation. Prints "valid"
//       (exit 0) or the reason (exit 1).

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.text.SimpleDateFormat;
import java.util.Collections;
import java.util.Date;
import java.util.Enumeration;
import java.util.List;
import java.util.TimeZone;
import javax.xml.crypto.AlgorithmMethod;
import javax.xml.crypto.KeySelector;
import javax.xml.crypto.KeySelectorException;
import javax.xml.crypto.KeySelectorResult;
import javax.xml.crypto.XMLCryptoContext;
import javax.xml.crypto.dsig.CanonicalizationMethod;
import javax.xml.crypto.dsig.DigestMethod;
import javax.xml.crypto.dsig.Reference;
import javax.xml.crypto.dsig.SignatureMethod;
import javax.xml.crypto.dsig.SignedInfo;
import javax.xml.crypto.dsig.Transform;
import javax.xml.crypto.dsig.XMLSignature;
import javax.xml.crypto.dsig.XMLSignatureFactory;
import javax.xml.crypto.dsig.dom.DOMSignContext;
import javax.xml.crypto.dsig.dom.DOMValidateContext;
import javax.xml.crypto.dsig.keyinfo.KeyInfo;
import javax.xml.crypto.dsig.keyinfo.KeyInfoFactory;
import javax.xml.crypto.dsig.keyinfo.X509Data;
import javax.xml.crypto.dsig.spec.C14NMethodParameterSpec;
import javax.xml.crypto.dsig.spec.TransformParameterSpec;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Attr;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

public final class OriginalTools {
    static final String RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
    static final String DCTERMS = "http://purl.org/dc/terms/";
    static final String SLREQ = "http://mp.stratuslab.eu/slreq#";

    public static void main(String[] args) throws Exception {
        if (args.length >= 5 && args[0].equals("sign")) {
            sign(args);
        } else if (args.length == 2 && args[0].equals("validate")) {
            System.exit(validate(new File(args[1])) ? 0 : 1);
        } else {
            System.err.println("usage: OriginalTools sign IN OUT P12 PASSWORD [EMAIL] | validate FILE");
            System.exit(2);
        }
    }

    static Document read(File file) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        DocumentBuilder builder = factory.newDocumentBuilder();
        return builder.parse(file);
    }

    static void sign(String[] args) throws Exception {
        Document doc = read(new File(args[1]));
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(args[3])) {
            store.load(in, args[4].toCharArray());
        }
        PrivateKey key = null;
        X509Certificate cert = null;
        for (Enumeration<String> e = store.aliases(); e.hasMoreElements(); ) {
            String alias = e.nextElement();
            Key k = store.getKey(alias, args[4].toCharArray());
            if (k instanceof PrivateKey) {
                key = (PrivateKey) k;
                cert = (X509Certificate) store.getCertificate(alias);
            }
        }
        String email = certificateEmail(cert);
        if (email == null && args.length > 5) {
            email = args[5];
        }

        // Keep only the last endorsement, emptied; remove every signature.
        NodeList endorsements = doc.getElementsByTagNameNS(SLREQ, "endorsement");
        while (endorsements.getLength() > 1) {
            Node first = endorsements.item(0);
            first.getParentNode().removeChild(first);
            endorsements = doc.getElementsByTagNameNS(SLREQ, "endorsement");
        }
        NodeList signatures = doc.getElementsByTagNameNS(XMLSignature.XMLNS, "Signature");
        while (signatures.getLength() > 0) {
            Node first = signatures.item(0);
            first.getParentNode().removeChild(first);
            signatures = doc.getElementsByTagNameNS(XMLSignature.XMLNS, "Signature");
        }
        Element endorsement = (Element) endorsements.item(0);
        while (endorsement.hasChildNodes()) {
            endorsement.removeChild(endorsement.getLastChild());
        }

        // Fill it from the certificate, elements without a prefix.
        SimpleDateFormat format = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss'Z'");
        format.setTimeZone(TimeZone.getTimeZone("UTC"));
        String now = System.getenv("MARKETPLACE_NOW");
        Element created = doc.createElementNS(DCTERMS, "created");
        created.setTextContent(now != null ? now : format.format(new Date()));
        endorsement.appendChild(created);
        Element endorser = doc.createElementNS(SLREQ, "endorser");
        Attr parseType = doc.createAttributeNS(RDF, "parseType");
        parseType.setTextContent("Resource");
        endorser.setAttributeNodeNS(parseType);
        String[][] fields = {
            {"email", email},
            {"subject", cert.getSubjectX500Principal().getName()},
            {"issuer", cert.getIssuerX500Principal().getName()},
        };
        for (String[] field : fields) {
            Element e = doc.createElementNS(SLREQ, field[0]);
            e.setTextContent(field[1]);
            endorser.appendChild(e);
        }
        endorsement.appendChild(endorser);
        doc.normalizeDocument();

        // Sign: enveloped, RSA-SHA1, SHA-1, C14N with comments, the certificate in KeyInfo.
        XMLSignatureFactory factory = XMLSignatureFactory.getInstance("DOM");
        Reference reference = factory.newReference(
                "",
                factory.newDigestMethod(DigestMethod.SHA1, null),
                Collections.singletonList(
                        factory.newTransform(Transform.ENVELOPED, (TransformParameterSpec) null)),
                null,
                null);
        SignedInfo signedInfo = factory.newSignedInfo(
                factory.newCanonicalizationMethod(
                        CanonicalizationMethod.INCLUSIVE_WITH_COMMENTS,
                        (C14NMethodParameterSpec) null),
                factory.newSignatureMethod(SignatureMethod.RSA_SHA1, null),
                Collections.singletonList(reference));
        KeyInfoFactory kif = factory.getKeyInfoFactory();
        KeyInfo keyInfo = kif.newKeyInfo(
                Collections.singletonList(kif.newX509Data(Collections.singletonList(cert))));
        factory.newXMLSignature(signedInfo, keyInfo)
                .sign(new DOMSignContext(key, doc.getDocumentElement()));

        Transformer transformer = TransformerFactory.newInstance().newTransformer();
        StringWriter text = new StringWriter();
        transformer.transform(new DOMSource(doc), new StreamResult(text));
        try (Writer out = new OutputStreamWriter(
                new FileOutputStream(args[2]), StandardCharsets.UTF_8)) {
            out.write(text.toString());
        }
    }

    // The first e-mail address of the certificate's subjectAltName.
    static String certificateEmail(X509Certificate cert) throws Exception {
        if (cert.getSubjectAlternativeNames() == null) {
            return null;
        }
        for (List<?> name : cert.getSubjectAlternativeNames()) {
            if (((Integer) name.get(0)) == 1) {
                return (String) name.get(1);
            }
        }
        return null;
    }

    static boolean validate(File file) throws Exception {
        Document doc = read(file);
        NodeList signatures = doc.getElementsByTagNameNS(XMLSignature.XMLNS, "Signature");
        if (signatures.getLength() == 0) {
            System.out.println("no signature");
            return false;
        }
        DOMValidateContext context = new DOMValidateContext(new OriginalKeySelector(),
                signatures.item(0));
        // The original ran on Java 6 and 7, before "secure validation" refused SHA-1.
        context.setProperty("org.jcp.xml.dsig.secureValidation", Boolean.FALSE);
        try {
            XMLSignature signature = XMLSignatureFactory.getInstance("DOM")
                    .unmarshalXMLSignature(context);
            if (signature.validate(context)) {
                System.out.println("valid");
                return true;
            }
            System.out.println("signature validation: "
                    + signature.getSignatureValue().validate(context));
            return false;
        } catch (Exception e) {
            Throwable cause = e;
            while (cause.getCause() != null) {
                cause = cause.getCause();
            }
            System.out.println(e.getMessage() + " (" + cause.getMessage() + ")");
            return false;
        }
    }

    // The library's key selector: the key of an X509Data certificate, accepted only when its
    // algorithm matches the SignatureMethod (RSA with rsa-sha1, DSA with dsa-sha1).
    static final class OriginalKeySelector extends KeySelector {
        @Override
        public KeySelectorResult select(KeyInfo keyInfo, KeySelector.Purpose purpose,
                AlgorithmMethod method, XMLCryptoContext context) throws KeySelectorException {
            if (keyInfo == null) {
                throw new KeySelectorException("Null KeyInfo object!");
            }
            String uri = method.getAlgorithm();
            for (Object item : keyInfo.getContent()) {
                if (!(item instanceof X509Data)) {
                    continue;
                }
                for (Object data : ((X509Data) item).getContent()) {
                    if (!(data instanceof X509Certificate)) {
                        continue;
                    }
                    final PublicKey key = ((X509Certificate) data).getPublicKey();
                    boolean rsa = key.getAlgorithm().equalsIgnoreCase("RSA")
                            && uri.equals(SignatureMethod.RSA_SHA1);
                    boolean dsa = key.getAlgorithm().equalsIgnoreCase("DSA")
                            && uri.equals(SignatureMethod.DSA_SHA1);
                    if (rsa || dsa) {
                        return new KeySelectorResult() {
                            public Key getKey() {
                                return key;
                            }
                        };
                    }
                }
            }
            throw new KeySelectorException("cannot find validation key");
        }
    }
}
