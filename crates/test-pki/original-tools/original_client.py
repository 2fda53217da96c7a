"""Tests only: what the original StratusLab (Python) client wrote, rebuilt for the tests.

    python3 original_client.py deprecate IN OUT REASON
        As `stratus-deprecate-metadata` prepared a deprecation before signing it: ElementTree
        reads the entry (a bare document or the server's <metadata> list), the endorsement is
        replaced by an empty one whose parseType has no namespace, the signature removed, an
        slterms:deprecated appended, and ElementTree writes it (prefixes ns0, ns1, ... for
        every namespace but rdf, no XML declaration).
    python3 original_client.py add-element IN OUT NAME VALUE
        As the client's ManifestInfo.addElementToManifestFile: an slterms:NAME element with VALUE
        appended to the description, and the whole document written again by ElementTree
        (prefixes ns0, ns1, ...).
    python3 original_client.py build OUT KEY=VALUE...
        As `stratus-build-metadata` filled its template: every element is written, empty when
        its option was not given; checksums not computed (--no-md5, ...) are written with an
        empty value; no location gives an empty <slterms:location/>. Keys: identifier, bytes,
        md5, sha1, sha256, sha512, type, kind, os, osversion, arch, version, compression,
        location, format, creator, created, valid, title, tag, comment, hypervisor, disksbus,
        publisher.

Written for this project from the client's documented behaviour (docs/compatibility.md).
"""

import sys
import xml.etree.ElementTree as etree

NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_SLREQ = "http://mp.stratuslab.eu/slreq#"
NS_SLTERMS = "http://mp.stratuslab.eu/slterms#"
NS_DS = "http://www.w3.org/2000/09/xmldsig#"


def deprecate(src, dst, reason):
    tree = etree.ElementTree(file=src)
    root = tree.getroot()
    if root.tag == "metadata":
        root = root.find(".//{%s}RDF" % NS_RDF)
    description = root.find(".//{%s}Description" % NS_RDF)
    description.remove(description.find(".//{%s}endorsement" % NS_SLREQ))
    description.append(etree.Element("{%s}endorsement" % NS_SLREQ, parseType="Resource"))
    signature = root.find(".//{%s}Signature" % NS_DS)
    if signature is not None:
        root.remove(signature)
    tree._setroot(root)
    deprecated = etree.Element("{%s}deprecated" % NS_SLTERMS)
    deprecated.text = reason
    description.append(deprecated)
    tree.write(dst)


def add_element(src, dst, name, value):
    tree = etree.ElementTree(file=src)
    element = etree.Element("{%s}%s" % (NS_SLTERMS, name))
    element.text = value
    tree.getroot().find(".//{%s}Description" % NS_RDF).append(element)
    tree.write(dst)


TEMPLATE = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    xmlns:dcterms="http://purl.org/dc/terms/"
    xmlns:slterms="http://mp.stratuslab.eu/slterms#"
    xmlns:slreq="http://mp.stratuslab.eu/slreq#"
    xml:base="http://mp.stratuslab.eu/">

    <rdf:Description rdf:about="#%(identifier)s">

        <dcterms:identifier>%(identifier)s</dcterms:identifier>

        <slreq:bytes>%(bytes)s</slreq:bytes>

        <slreq:checksum rdf:parseType="Resource">
            <slreq:algorithm>MD5</slreq:algorithm>
            <slreq:value>%(md5)s</slreq:value>
        </slreq:checksum>
        <slreq:checksum rdf:parseType="Resource">
            <slreq:algorithm>SHA-1</slreq:algorithm>
            <slreq:value>%(sha1)s</slreq:value>
        </slreq:checksum>
        <slreq:checksum rdf:parseType="Resource">
            <slreq:algorithm>SHA-256</slreq:algorithm>
            <slreq:value>%(sha256)s</slreq:value>
        </slreq:checksum>
        <slreq:checksum rdf:parseType="Resource">
            <slreq:algorithm>SHA-512</slreq:algorithm>
            <slreq:value>%(sha512)s</slreq:value>
        </slreq:checksum>

        <slreq:endorsement rdf:parseType="Resource"/>

        <dcterms:type>%(type)s</dcterms:type>
        <slterms:kind>%(kind)s</slterms:kind>

        <slterms:os>%(os)s</slterms:os>
        <slterms:os-version>%(osversion)s</slterms:os-version>
        <slterms:os-arch>%(arch)s</slterms:os-arch>
        <slterms:version>%(version)s</slterms:version>
        <dcterms:compression>%(compression)s</dcterms:compression>
        %(locations)s

        <dcterms:format>%(format)s</dcterms:format>

        <dcterms:creator>%(creator)s</dcterms:creator>

        <dcterms:created>%(created)s</dcterms:created>
        <dcterms:valid>%(valid)s</dcterms:valid>

        <dcterms:title>%(title)s</dcterms:title>
        <dcterms:alternative>%(tag)s</dcterms:alternative>
        <dcterms:description>%(comment)s</dcterms:description>

        <slterms:hypervisor>%(hypervisor)s</slterms:hypervisor>
        <slterms:disks-bus>%(disksbus)s</slterms:disks-bus>

        <dcterms:publisher>%(publisher)s</dcterms:publisher>

    </rdf:Description>
</rdf:RDF>
"""

FIELDS = ("identifier bytes md5 sha1 sha256 sha512 type kind os osversion arch version "
          "compression format creator created valid title tag comment hypervisor disksbus "
          "publisher").split()


def build(dst, pairs):
    values = dict((name, "") for name in FIELDS)
    values["disksbus"] = "ide"
    values["publisher"] = "StratusLab"
    locations = []
    for pair in pairs:
        key, value = pair.split("=", 1)
        if key == "location":
            locations.append(value)
        elif key in values:
            values[key] = value
        else:
            raise SystemExit("unknown field %s" % key)
    if locations:
        values["locations"] = "\n        ".join(
            "<slterms:location>%s</slterms:location>" % l for l in locations)
    else:
        values["locations"] = "<slterms:location/>"
    with open(dst, "w") as out:
        out.write(TEMPLATE % values)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "deprecate":
        deprecate(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 6 and sys.argv[1] == "add-element":
        add_element(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif len(sys.argv) >= 3 and sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3:])
    else:
        raise SystemExit(__doc__)
