package dev.grpckeepalive.test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Builds the grpc-go peer ({@code interop/grpc-go}) the way Debian packages Go libraries: in
 * GOPATH mode ({@code GO111MODULE=off}) against {@code golang-google-grpc-dev}'s sources in
 * {@value #SYSTEM_GOPATH}, so neither the module proxy nor any network is needed. The binary and
 * Go's build cache go to {@code target/grpc-go}; a rebuild in the same JVM is not needed, and
 * one in a later JVM takes a second from the cache.
 */
final class GoPeerBuild {

	/** Where Debian's golang-*-dev packages install their sources. */
	static final String SYSTEM_GOPATH = "/usr/share/gocode";

	/** The peer's package below {@code interop/grpc-go/src}. */
	private static final String PACKAGE = "grpckeepalivepeer";

	/** Generous: a first build compiles grpc-go and its dependencies (about 10 s on 2 idle cores). */
	private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(5);

	private static final Path SOURCES = Path.of("..", "interop", "grpc-go").toAbsolutePath().normalize();

	private static final Path OUTPUT = Path.of("target", "grpc-go").toAbsolutePath().normalize();

	private GoPeerBuild() {
	}

	/** The binary, once {@link #build()} has made it. */
	static Path binary() {
		return OUTPUT.resolve(PACKAGE);
	}

	/** Builds the peer; returns why it cannot be built, or {@code null} once it is; fails where the build does. */
	static String build() throws Exception {
		if (!FaultInjection.runs("go", "version")) {
			return "Go is not installed (no 'go' on the PATH; Debian: golang-go)";
		}
		if (!Files.isDirectory(Path.of(SYSTEM_GOPATH, "src", "google.golang.org", "grpc"))) {
			return "grpc-go's sources are not installed in " + SYSTEM_GOPATH + " (Debian: golang-google-grpc-dev)";
		}
		Files.createDirectories(OUTPUT);
		long started = System.nanoTime();
		ProcessBuilder builder = new ProcessBuilder("go", "build", "-o", binary().toString(), PACKAGE)
			.directory(OUTPUT.toFile())
			.redirectErrorStream(true);
		Map<String, String> environment = builder.environment();
		environment.put("GO111MODULE", "off");
		environment.put("GOPATH", String.join(java.io.File.pathSeparator, OUTPUT.resolve("gopath").toString(),
				SOURCES.toString(), SYSTEM_GOPATH));
		environment.put("GOCACHE", OUTPUT.resolve("cache").toString());
		environment.put("GOFLAGS", "");
		environment.put("GOPROXY", "off");
		Process go = builder.start();
		go.getOutputStream().close();
		CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
			try {
				return new String(go.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			}
			catch (IOException ex) {
				return ex.toString();
			}
		});
		if (!go.waitFor(BUILD_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
			go.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
			throw new AssertionError("building the grpc-go peer did not finish within " + BUILD_TIMEOUT);
		}
		if (go.exitValue() != 0) {
			throw new AssertionError("building the grpc-go peer failed (exit code " + go.exitValue()
					+ "); run 'GO111MODULE=off GOPATH=$PWD/interop/grpc-go:" + SYSTEM_GOPATH + " go build " + PACKAGE
					+ "' in the repository to see why. Output:\n" + output.completeOnTimeout("(no output)", 5, TimeUnit.SECONDS).get());
		}
		System.err.println("grpc-go interop peer built in " + Duration.ofNanos(System.nanoTime() - started).toMillis()
				+ " ms");
		return null;
	}

}
