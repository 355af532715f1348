//! Real servers for tests: one FerretDB (MongoDB wire protocol, SQLite backend) and one
//! `moto_server` (Secrets Manager) per test binary, started on first use on a free loopback
//! port and killed when the test binary exits; FerretDB's data folder is removed then too
//! (a full run starts about 40 of them, some 100 MB: left behind they fill a CI disk).

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `MONGODB_URI` when set (a real `mongod` must pass the same suite), else a FerretDB
/// started for this test binary.
pub fn mongodb_uri() -> &'static str {
    static URI: OnceLock<String> = OnceLock::new();
    URI.get_or_init(|| match std::env::var("MONGODB_URI") {
        Ok(uri) if !uri.trim().is_empty() => uri,
        _ => format!("mongodb://{}/", start_ferretdb()),
    })
}

/// Endpoint of a `moto_server` started for this test binary.
pub fn moto_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        let port = free_port();
        let program = find_program("MOTO_SERVER_BIN", "moto_server");
        spawn_for_life_of_process(Command::new(program).args([
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ]));
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        wait_until_listening(addr, "moto_server");
        format!("http://{addr}")
    })
}

/// A FerretDB of its own whose SQLite backend is read-only (`query_only`): every write is
/// refused, reads answer. "The database refuses writes."
pub fn read_only_mongodb_uri() -> &'static str {
    static URI: OnceLock<String> = OnceLock::new();
    URI.get_or_init(|| {
        format!(
            "mongodb://{}/",
            start_ferretdb_with("?_pragma=query_only(1)")
        )
    })
}

fn start_ferretdb() -> SocketAddr {
    start_ferretdb_with("")
}

/// FerretDB on a new data folder; `sqlite_query` is appended to its SQLite URL.
fn start_ferretdb_with(sqlite_query: &str) -> SocketAddr {
    let dir = tempfile::Builder::new()
        .prefix("ctm-ferretdb-")
        .tempdir()
        .expect("a temporary directory for FerretDB")
        .keep();
    remove_when_process_exits(&dir);
    let port = free_port();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let program = find_program("FERRETDB_BIN", "ferretdb");
    spawn_for_life_of_process(Command::new(program).args([
        format!("--listen-addr={addr}"),
        "--handler=sqlite".into(),
        format!("--sqlite-url=file:{}/{sqlite_query}", dir.display()),
        format!("--state-dir={}", dir.display()),
        "--debug-addr=-".into(),
        "--telemetry=disable".into(),
        "--log-level=error".into(),
    ]));
    wait_until_listening(addr, "FerretDB");
    addr
}

/// The folders this test binary removes when it exits (its servers' data, its scratch folder),
/// for the test that checks they go.
pub fn folders_removed_at_exit() -> Vec<PathBuf> {
    REMOVED_AT_EXIT
        .lock()
        .map(|dirs| dirs.clone())
        .unwrap_or_default()
}

static REMOVED_AT_EXIT: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// A folder of this test binary's own for files tests write, removed when the binary exits.
pub fn scratch_folder() -> &'static std::path::Path {
    static FOLDER: OnceLock<PathBuf> = OnceLock::new();
    FOLDER.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("ctm-test-")
            .tempdir()
            .expect("a temporary directory for test files")
            .keep();
        remove_when_process_exits(&dir);
        dir
    })
}

/// Removes `dir` once this process has exited, however it exits (a test binary ends with
/// `exit`, a panic, or a signal: no destructor of ours runs then). A janitor `sh` reads a pipe
/// whose only writer is this process; the kernel closes it when the process dies, `cat` sees
/// end of file, and the folder goes. FerretDB dies at the same moment (`PR_SET_PDEATHSIG`);
/// files it still holds open are unlinked all the same.
fn remove_when_process_exits(dir: &std::path::Path) {
    let mut janitor = Command::new("sh")
        .args(["-c", r#"cat >/dev/null; rm -rf -- "$0""#])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh starts");
    // The write end stays open for the life of the process (std opens pipes close-on-exec,
    // so no other child holds it).
    std::mem::forget(janitor.stdin.take());
    std::thread::spawn(move || janitor.wait());
    if let Ok(mut dirs) = REMOVED_AT_EXIT.lock() {
        dirs.push(dir.to_path_buf());
    }
}

/// `$VAR`, else the program on `PATH`, else Go's bin directory (where the install script puts
/// FerretDB).
fn find_program(var: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(var) {
        return path.into();
    }
    let in_path = std::env::var_os("PATH").into_iter().flat_map(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .collect::<Vec<_>>()
    });
    let go_bin = std::env::var_os("GOPATH")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join("go")))
        .map(|dir| dir.join("bin").join(name));
    in_path
        .chain(go_bin)
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{name} not found: run scripts/install-tools.sh (or set {var})"))
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// Spawns from a thread that never ends: `PR_SET_PDEATHSIG` fires when the *spawning thread*
/// exits, so spawning from a test's own thread would kill the server when that test ends.
fn spawn_for_life_of_process(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[allow(unsafe_code)]
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let (sent, spawned) = std::sync::mpsc::channel();
    let mut command = std::mem::replace(command, Command::new("true"));
    std::thread::spawn(move || {
        let child = command.spawn();
        let ok = child.is_ok();
        let _ = sent.send(child.map(|_| ()));
        if ok {
            loop {
                std::thread::park();
            }
        }
    });
    spawned
        .recv()
        .expect("spawner thread answers")
        .expect("test server process starts");
}

fn wait_until_listening(addr: SocketAddr, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not start listening on {addr} within 60 s");
}
