package dev.grpckeepalive.interop;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import dev.grpckeepalive.test.ExternalProcess;
import dev.grpckeepalive.test.FaultInjection;
import dev.grpckeepalive.test.FreePorts;

/**
 * nginx (Debian's {@code nginx-core}) on loopback as a gRPC reverse proxy, as a Kubernetes
 * ingress runs it: HTTP/2 without TLS to its clients, {@code grpc_pass} to one upstream server
 * with a pool of {@code keepalive 32} idle upstream connections, every other setting nginx's
 * default. It runs in the foreground ({@code daemon off}) from a prefix folder of its own with
 * its pid file, temporary files and error log there; {@link #close} stops it and deletes the folder.
 */
final class Nginx implements AutoCloseable {

	private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

	private final Process process;

	private final Path directory;

	private final int port;

	private Nginx(Process process, Path directory, int port) {
		this.process = process;
		this.directory = directory;
		this.port = port;
	}

	/** Skips (or, in CI, fails) where nginx is not installed. */
	static void require(String scenario) {
		FaultInjection.requireProgram(scenario, "nginx", "-v", "nginx-core");
	}

	/** Starts nginx in front of the gRPC server on {@code upstreamPort}; retries when its free port was taken. */
	static Nginx start(int upstreamPort) throws IOException, InterruptedException {
		IOException failure = null;
		for (int attempt = 0; attempt < 3; attempt++) {
			try {
				return start(FreePorts.take(), upstreamPort);
			}
			catch (IOException ex) {
				failure = ex;
			}
		}
		throw failure;
	}

	/** The proxy's address as a gRPC target. */
	String target() {
		return "127.0.0.1:" + this.port;
	}

	static String render(Path directory, int port, int upstreamPort) {
		String dir = directory.toString();
		StringBuilder conf = new StringBuilder();
		conf.append("daemon off;\n");
		conf.append("worker_processes 1;\n");
		// workers drop root's rights for nobody's, who must write the temporary files below
		if ("root".equals(System.getProperty("user.name"))) {
			conf.append("user root;\n");
		}
		conf.append("pid ").append(dir).append("/nginx.pid;\n");
		conf.append("error_log ").append(dir).append("/error.log warn;\n");
		conf.append("events { worker_connections 2048; }\n");
		conf.append("http {\n");
		conf.append("    access_log off;\n");
		for (String temp : new String[] { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" }) {
			conf.append("    ").append(temp).append("_temp_path ").append(dir).append("/").append(temp).append(";\n");
		}
		conf.append("    upstream grpc_server {\n");
		conf.append("        server 127.0.0.1:").append(upstreamPort).append(";\n");
		conf.append("        keepalive 32;\n");
		conf.append("    }\n");
		conf.append("    server {\n");
		conf.append("        listen 127.0.0.1:").append(port).append(" http2;\n");
		conf.append("        location / {\n");
		conf.append("            grpc_pass grpc://grpc_server;\n");
		conf.append("        }\n");
		conf.append("    }\n");
		conf.append("}\n");
		return conf.toString();
	}

	private static Nginx start(int port, int upstreamPort) throws IOException, InterruptedException {
		Path directory = Files.createTempDirectory("nginx-");
		Path conf = directory.resolve("nginx.conf");
		Files.writeString(conf, render(directory, port, upstreamPort), StandardCharsets.UTF_8);
		Process process = new ProcessBuilder("nginx", "-p", directory.toString(), "-e",
				directory.resolve("error.log").toString(), "-c", conf.toString())
			.redirectErrorStream(true)
			.redirectOutput(directory.resolve("stdout.log").toFile())
			.start();
		Nginx nginx = new Nginx(process, directory, port);
		try {
			nginx.awaitListening();
			return nginx;
		}
		catch (IOException ex) {
			String log = nginx.errorLog();
			nginx.close();
			throw new IOException("nginx did not start: " + ex.getMessage() + "\n" + log, ex);
		}
	}

	private void awaitListening() throws IOException, InterruptedException {
		long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
		while (System.nanoTime() < deadline) {
			if (!this.process.isAlive()) {
				throw new IOException("exited with status " + this.process.exitValue());
			}
			try (Socket socket = new Socket()) {
				// a bare connect and close: nginx logs nothing for it, and no upstream connection is opened
				socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), this.port), 1000);
				return;
			}
			catch (IOException ex) {
				Thread.sleep(50);
			}
		}
		throw new IOException("not listening within " + START_TIMEOUT.toSeconds() + "s");
	}

	/** What nginx logged (warnings and errors), for failure messages. */
	String errorLog() {
		try {
			Path log = this.directory.resolve("error.log");
			return Files.exists(log) ? Files.readString(log) : "(no error log)";
		}
		catch (IOException ex) {
			return "(no error log: " + ex + ")";
		}
	}

	@Override
	public void close() {
		ExternalProcess.stopAndDelete(this.process, 5, this.directory);
	}

}
