//! `marketplace download`: locations tried in turn, every codec, size and
//! checksum verification with loud failures, resuming partial downloads.

use crate::harness::*;
use std::path::{Path, PathBuf};

/// Uploads an image described by alice; returns its identifier.
fn publish(server: &Server, dir: &Path, name: &str, image: &[u8], build: &[&str]) -> String {
    let pki = pki().unwrap();
    let sources = dir.join("sources");
    std::fs::create_dir_all(&sources).unwrap();
    let doc = describe_and_sign(&sources, name, image, build, &strs(&alice(pki)));
    let o = server.run(&["upload", doc.to_str().unwrap()]);
    expect(&o, 0);
    identifier_of(&doc)
}

fn download(server: &Server, id: &str, output: &Path, extra: &[&str]) -> std::process::Output {
    server.run(
        &[
            &["download", id, "--output", output.to_str().unwrap()],
            extra,
        ]
        .concat(),
    )
}

fn leftovers(output: &Path) -> Vec<PathBuf> {
    ["", ".part", ".tmp"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", output.display())))
        .filter(|p| p.exists())
        .collect()
}

#[test]
fn compressed_images_are_decompressed_and_verified() {
    if pki().is_none() {
        return;
    }
    let server = Server::start();
    let mirror = Mirror::start();
    let work = tempfile::tempdir().unwrap();
    let image = image_bytes(10, 3 * 1024 * 1024 + 5);
    for (i, codec) in ["gz", "bz2", "xz", "zst"].into_iter().enumerate() {
        // The metadata describes the image; the locations hold it compressed.
        let mut image = image.clone();
        image[0] = i as u8 + 1;
        let name = format!("disk{i}.img");
        let packed = compress(codec, &image);
        let url = mirror.put(&format!("{name}.{codec}"), packed.clone());
        let broken = mirror.at("broken", &name);
        let id = publish(
            &server,
            work.path(),
            &name,
            &image,
            &[
                "--compression",
                codec,
                "--location",
                &broken,
                "--location",
                &url,
            ],
        );
        let out = work.path().join(format!("out-{codec}.img"));
        let o = download(&server, &id, &out, &["--json"]);
        expect(&o, 0);
        assert_eq!(std::fs::read(&out).unwrap(), image, "{codec}");
        let v = json(&o);
        assert_eq!(v["decompressed"], codec);
        assert_eq!(v["location"], url.as_str());
        assert_eq!(v["image_bytes"], image.len() as u64);
        assert_eq!(v["served_bytes"], packed.len() as u64);
        assert_eq!(
            v["verified"],
            serde_json::json!(["size", "MD5", "SHA-1", "SHA-256", "SHA-512"])
        );
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("answered 500"),
            "{}",
            text(&o)
        );
        assert_eq!(leftovers(&out), vec![out.clone()], "only the image is left");
        // The file as served, still verified through decompression.
        let kept = work.path().join(format!("kept.{codec}"));
        let o = download(&server, &id, &kept, &["--keep-compressed"]);
        expect(&o, 0);
        assert_eq!(std::fs::read(&kept).unwrap(), packed);
        // An existing file is not replaced without --force.
        let o = download(&server, &id, &out, &[]);
        expect(&o, 2);
        assert!(text(&o).contains("--force"), "{}", text(&o));
    }
}

#[test]
fn uncompressed_images_and_decompress_on_request() {
    if pki().is_none() {
        return;
    }
    let server = Server::start();
    let mirror = Mirror::start();
    let work = tempfile::tempdir().unwrap();
    let image = image_bytes(20, 2 * 1024 * 1024);
    let url = mirror.put("plain.img", image.clone());
    let id = publish(
        &server,
        work.path(),
        "plain.img",
        &image,
        &["--location", &url],
    );
    // The default name is the location's file name, in the current directory.
    let o = marketplace()
        .current_dir(work.path())
        .args(["download", &id, "-m", &server.url])
        .output()
        .unwrap();
    expect(&o, 0);
    let saved = work.path().join("plain.img");
    assert_eq!(std::fs::read(&saved).unwrap(), image);
    assert!(
        text(&o).contains("verified: size, MD5, SHA-1, SHA-256, SHA-512"),
        "{}",
        text(&o)
    );

    // A document describing the gzip file itself (no compression term):
    // checksums are of the file as served; --decompress then inflates it.
    let gz = compress("gz", &image);
    let gz_url = mirror.put("described.img.gz", gz.clone());
    let id = publish(
        &server,
        work.path(),
        "described.img.gz",
        &gz,
        &["--location", &gz_url],
    );
    let out = work.path().join("inflated.img");
    let o = download(&server, &id, &out, &["--decompress"]);
    expect(&o, 0);
    assert_eq!(std::fs::read(&out).unwrap(), image);
    let out = work.path().join("as-served.gz");
    let o = download(&server, &id, &out, &[]);
    expect(&o, 0);
    assert_eq!(std::fs::read(&out).unwrap(), gz);
}

#[test]
fn mismatches_delete_the_file_and_fail_loudly() {
    if pki().is_none() {
        return;
    }
    let server = Server::start();
    let mirror = Mirror::start();
    let work = tempfile::tempdir().unwrap();
    let image = image_bytes(30, 1024 * 1024 + 3);
    mirror.put("img", image.clone());
    let packed = compress("zst", &image);
    mirror.put("img.zst", packed);
    let corrupt = mirror.at("corrupt", "img");
    let corrupt_zst = mirror.at("corrupt", "img.zst");
    let id = publish(
        &server,
        work.path(),
        "a.img",
        &image,
        &["--location", &corrupt],
    );
    let out = work.path().join("a.img.out");
    let o = download(&server, &id, &out, &[]);
    expect(&o, 1);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(err.contains("MISMATCH"), "{err}");
    for alg in ["MD5", "SHA-1", "SHA-256", "SHA-512"] {
        assert!(
            err.contains(&format!("{alg}: the metadata gives")),
            "{alg}: {err}"
        );
    }
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));

    // A corrupt compressed file: the decompressor or the checksums catch it.
    let mut other = image.clone();
    other[7] ^= 1;
    let id = publish(
        &server,
        work.path(),
        "b.img",
        &other,
        &["--compression", "zst", "--location", &corrupt_zst],
    );
    let out = work.path().join("b.img.out");
    let o = download(&server, &id, &out, &[]);
    expect(&o, 1);
    assert!(leftovers(&out).is_empty());

    // A location with a file of another size is refused before downloading it all.
    let small = mirror.put("small", vec![1u8; 100]);
    let id = publish(
        &server,
        work.path(),
        "c.img",
        &image_bytes(31, 5000),
        &["--location", &small],
    );
    let o = download(&server, &id, &work.path().join("c.out"), &[]);
    expect(&o, 1);
    assert!(text(&o).contains("size mismatch"), "{}", text(&o));

    // Only unreachable locations: a network failure (3), saying what to do.
    let gone = "http://127.0.0.1:9/nothing.img".to_string();
    let id = publish(
        &server,
        work.path(),
        "d.img",
        &image_bytes(32, 5000),
        &["--location", &gone],
    );
    let o = download(&server, &id, &work.path().join("d.out"), &[]);
    expect(&o, 3);
    assert!(text(&o).contains("could not be downloaded"), "{}", text(&o));

    // An unknown image: 4.
    let o = download(
        &server,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &work.path().join("e"),
        &[],
    );
    expect(&o, 4);
}

#[test]
fn partial_downloads_resume_and_are_verified_whole() {
    if pki().is_none() {
        return;
    }
    let server = Server::start();
    let mirror = Mirror::start();
    let work = tempfile::tempdir().unwrap();

    // The only location breaks off halfway: the partial file is kept.
    let image = image_bytes(40, 3 * 1024 * 1024);
    let packed = compress("gz", &image);
    mirror.put("r.img.gz", packed.clone());
    let short = mirror.at("short", "r.img.gz");
    let id = publish(
        &server,
        work.path(),
        "r.img",
        &image,
        &["--compression", "gz", "--location", &short],
    );
    let out = work.path().join("r.img");
    let o = download(&server, &id, &out, &[]);
    expect(&o, 3);
    assert!(
        text(&o).contains("run the same command again to resume"),
        "{}",
        text(&o)
    );
    let part = PathBuf::from(format!("{}.part", out.display()));
    assert_eq!(std::fs::read(&part).unwrap(), packed[..packed.len() / 2]);

    // With a mirror that supports ranges, the rest is fetched and the whole verified.
    let image = image_bytes(41, 3 * 1024 * 1024);
    let packed = compress("gz", &image);
    let url = mirror.put("s.img.gz", packed.clone());
    let id = publish(
        &server,
        work.path(),
        "s.img",
        &image,
        &["--compression", "gz", "--location", &url],
    );
    let resumed = work.path().join("s.img");
    std::fs::write(format!("{}.part", resumed.display()), &packed[..1_000_000]).unwrap();
    let o = download(&server, &id, &resumed, &["--json"]);
    expect(&o, 0);
    assert_eq!(json(&o)["resumed"], true);
    assert_eq!(std::fs::read(&resumed).unwrap(), image);
    assert!(
        mirror
            .ranges()
            .contains(&"s.img.gz: bytes=1000000-".to_string()),
        "{:?}",
        mirror.ranges()
    );
    assert_eq!(leftovers(&resumed), vec![resumed.clone()]);

    // A partial file that is not a prefix of the file: found out, started over.
    let again = work.path().join("t.img");
    std::fs::write(format!("{}.part", again.display()), vec![7u8; 500_000]).unwrap();
    let o = download(&server, &id, &again, &[]);
    expect(&o, 0);
    assert_eq!(std::fs::read(&again).unwrap(), image);
    assert!(
        text(&o).contains("downloading again from the start"),
        "{}",
        text(&o)
    );

    // A server without range support: starts over, with a note.
    let plain = image_bytes(42, 2 * 1024 * 1024);
    mirror.put("n.img", plain.clone());
    let id = publish(
        &server,
        work.path(),
        "n.img",
        &plain,
        &["--location", &mirror.at("norange", "n.img")],
    );
    let n = work.path().join("n.out");
    std::fs::write(format!("{}.part", n.display()), &plain[..100_000]).unwrap();
    let o = download(&server, &id, &n, &[]);
    expect(&o, 0);
    assert!(
        text(&o).contains("does not resume downloads"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&n).unwrap(), plain);

    // --no-resume ignores a partial file.
    std::fs::remove_file(&n).unwrap();
    std::fs::write(format!("{}.part", n.display()), &plain[..100_000]).unwrap();
    let o = download(&server, &id, &n, &["--no-resume"]);
    expect(&o, 0);
    assert!(!text(&o).contains("does not resume"), "{}", text(&o));
}
