//! Endpoint resolution and `marketplace config`: option, environment,
//! configuration file (XDG_CONFIG_HOME, HOME), and the errors that say what
//! to do next.

use crate::harness::*;

#[test]
fn settings_come_from_option_environment_file_and_say_so() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".config/marketplace/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        "endpoint = \"mp.example.org/base/\"\ntimeout_secs = 7\np12_cert = \"~/cred.p12\"\nca_dir = \"certs\"\n",
    )
    .unwrap();
    let with_home = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = marketplace();
        c.env("HOME", home.path()).env_remove("XDG_CONFIG_HOME");
        for (k, v) in env {
            c.env(k, v);
        }
        c.args(args).output().unwrap()
    };
    let o = with_home(&["config", "--json"], &[]);
    expect(&o, 0);
    let v = json(&o);
    assert_eq!(v["config_file"], config.to_str().unwrap());
    assert_eq!(v["config_file_found"], true);
    assert_eq!(v["endpoint"]["value"], "https://mp.example.org/base");
    assert_eq!(v["endpoint"]["source"], "config file key 'endpoint'");
    assert_eq!(v["timeout_secs"]["value"], 7);
    assert_eq!(
        v["credential"]["value"],
        format!("PKCS#12 {}", home.path().join("cred.p12").display())
    );
    assert_eq!(
        v["ca_dir"]["value"],
        config.parent().unwrap().join("certs").to_str().unwrap()
    );

    let o = with_home(
        &["config", "--json"],
        &[("MARKETPLACE_ENDPOINT", "http://env:1")],
    );
    let v = json(&o);
    assert_eq!(v["endpoint"]["value"], "http://env:1/");
    assert_eq!(v["endpoint"]["source"], "environment $MARKETPLACE_ENDPOINT");
    let o = with_home(
        &["config", "-m", "http://opt:2", "--proxy", "/tmp/p"],
        &[("MARKETPLACE_ENDPOINT", "http://env:1")],
    );
    expect(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        out.contains("option --marketplace-endpoint") && out.contains("http://opt:2/"),
        "{out}"
    );
    assert!(out.contains("proxy /tmp/p"), "{out}");

    // XDG_CONFIG_HOME wins over HOME.
    let xdg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(xdg.path().join("marketplace")).unwrap();
    std::fs::write(
        xdg.path().join("marketplace/config.toml"),
        "endpoint = \"http://xdg:3\"\n",
    )
    .unwrap();
    let o = with_home(
        &["config", "--json"],
        &[("XDG_CONFIG_HOME", xdg.path().to_str().unwrap())],
    );
    assert_eq!(json(&o)["endpoint"]["value"], "http://xdg:3/");

    // A bad file is a configuration error naming the key.
    std::fs::write(&config, "endpont = \"x\"\n").unwrap();
    let o = with_home(&["search", "x"], &[]);
    expect(&o, 2);
    assert!(
        text(&o).contains("endpont") && text(&o).contains(config.to_str().unwrap()),
        "{}",
        text(&o)
    );
}

#[test]
fn missing_and_unreachable_endpoints() {
    let o = run(&["search", "ubuntu"]);
    expect(&o, 2);
    let err = text(&o);
    assert!(
        err.contains("--marketplace-endpoint") && err.contains("MARKETPLACE_ENDPOINT"),
        "{err}"
    );
    let o = run(&[
        "show",
        "HZ6rsTmtcc0dJgoGrgRhvwN3o0q",
        "-m",
        "http://127.0.0.1:9",
    ]);
    expect(&o, 3);
    assert!(text(&o).contains("cannot connect"), "{}", text(&o));
    let o = run(&["search", "-m", "ftp://x"]);
    expect(&o, 2);
}
