package dev.grpckeepalive.test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The grpc-go peer ({@code interop/grpc-go}), as the build makes it before any test starts:
 * {@code interop/prepare-peers}, which autoconfigure's {@code process-test-classes} phase runs,
 * builds it the way Debian packages Go libraries, in GOPATH mode ({@code GO111MODULE=off})
 * against {@code golang-google-grpc-dev}'s sources in {@value #SYSTEM_GOPATH}, offline, to
 * {@code target/grpc-go}. A first build compiles grpc-go (minutes on a loaded 2-core machine),
 * which no test's timeout should include: the tests only check that the binary is there.
 */
final class GoPeerBinary {

	/** Where Debian's golang-*-dev packages install their sources. */
	static final String SYSTEM_GOPATH = "/usr/share/gocode";

	private static final Path SOURCES = Path.of("..", "interop", "grpc-go").toAbsolutePath().normalize();

	private static final Path BINARY = Path.of("target", "grpc-go", "grpckeepalivepeer").toAbsolutePath().normalize();

	private GoPeerBinary() {
	}

	/** The binary, once {@link #check()} has found it. */
	static Path path() {
		return BINARY;
	}

	/** Why the peer cannot run, or {@code null} where its binary is built and newer than its sources. */
	static String check() throws IOException {
		if (!FaultInjection.runs("go", "version")) {
			return "Go is not installed (no 'go' on the PATH; Debian: golang-go)";
		}
		if (!Files.isDirectory(Path.of(SYSTEM_GOPATH, "src", "google.golang.org", "grpc"))) {
			return "grpc-go's sources are not installed in " + SYSTEM_GOPATH + " (Debian: golang-google-grpc-dev)";
		}
		String prepare = "run interop/prepare-peers (./mvnw -B verify runs it before the tests)";
		if (!Files.isExecutable(BINARY)) {
			return "it is not built (no " + PeerPaths.relative(BINARY) + "): " + prepare;
		}
		FileTime built = Files.getLastModifiedTime(BINARY);
		Optional<Path> newer;
		try (Stream<Path> sources = Files.walk(SOURCES)) {
			newer = sources.filter((source) -> source.toString().endsWith(".go"))
				.filter((source) -> modified(source).compareTo(built) > 0)
				.findFirst();
		}
		if (newer.isPresent()) {
			return "its binary is older than " + PeerPaths.relative(newer.get()) + ": " + prepare;
		}
		return null;
	}

	private static FileTime modified(Path path) {
		try {
			return Files.getLastModifiedTime(path);
		}
		catch (IOException ex) {
			return FileTime.fromMillis(Long.MAX_VALUE);
		}
	}

}
