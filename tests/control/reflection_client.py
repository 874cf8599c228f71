#!/usr/bin/python3
"""An external gRPC client nobody on this project wrote (python3-grpcio) talks to reactord.

It knows nothing about reactord.v1 in advance: it discovers the services through server
reflection (grpc.reflection.v1, as Postman and evans speak it; v1alpha must answer the same),
builds the message classes from the descriptors the server sends, and calls
Inspect.GetServerInfo and Inspect.ListConnections. Then it runs the standard health check. Only the public reflection and health .proto files (Debian grpc-proto)
are compiled, into a temporary directory.

usage: reflection_client.py REACTORD_BINARY
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PROTO_ROOT = "/usr/share/grpc-proto"


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def generate_stubs(workdir):
    # Copied out of grpc/...: a generated package named "grpc" would shadow grpcio itself.
    src = os.path.join(workdir, "src")
    os.makedirs(src)
    # Both reflection versions are called reflection.proto: one module name each.
    shutil.copy(os.path.join(PROTO_ROOT, "grpc/reflection/v1/reflection.proto"),
                os.path.join(src, "reflection_v1.proto"))
    shutil.copy(os.path.join(PROTO_ROOT, "grpc/reflection/v1alpha/reflection.proto"),
                os.path.join(src, "reflection_v1alpha.proto"))
    shutil.copy(os.path.join(PROTO_ROOT, "grpc/health/v1/health.proto"), src)
    subprocess.run(["protoc", "-I", src, "--python_out", workdir, "--grpc_python_out", workdir,
                    "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                    "reflection_v1.proto", "reflection_v1alpha.proto", "health.proto"], check=True)
    sys.path.insert(0, workdir)


def start_reactord(binary):
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0",
                             "--metrics-listen", "127.0.0.1:0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    control = None
    deadline = time.time() + 20
    while time.time() < deadline and control is None:
        line = proc.stderr.readline()
        if not line:
            break
        m = re.search(r"control plane listening on (127\.0\.0\.1:\d+)", line)
        if m:
            control = m.group(1)
    if control is None:
        proc.kill()
        fail("reactord did not report its control address")
    return proc, control


def main():
    binary = sys.argv[1]
    workdir = tempfile.mkdtemp(prefix="reactord-py-")
    proc = None
    try:
        generate_stubs(workdir)
        import grpc
        import health_pb2
        import health_pb2_grpc
        import reflection_v1_pb2 as reflection_pb2
        import reflection_v1_pb2_grpc as reflection_pb2_grpc
        import reflection_v1alpha_pb2
        import reflection_v1alpha_pb2_grpc
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

        proc, control = start_reactord(binary)
        channel = grpc.insecure_channel(control)
        grpc.channel_ready_future(channel).result(timeout=10)

        # 1. What does the server offer?
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)

        def ask(**kwargs):
            request = reflection_pb2.ServerReflectionRequest(**kwargs)
            return next(iter(reflection.ServerReflectionInfo(iter([request]), timeout=10)))

        services = {s.name for s in ask(list_services="").list_services_response.service}
        for wanted in ("reactord.v1.Inspect", "reactord.v1.Control", "grpc.health.v1.Health",
                       "grpc.reflection.v1.ServerReflection",
                       "grpc.reflection.v1alpha.ServerReflection"):
            if wanted not in services:
                fail("reflection v1 does not list %s: %s" % (wanted, sorted(services)))

        # v1alpha (older grpcurl, grpc_cli) answers the same.
        alpha = reflection_v1alpha_pb2_grpc.ServerReflectionStub(channel)
        alpha_request = reflection_v1alpha_pb2.ServerReflectionRequest(list_services="")
        alpha_answer = next(iter(alpha.ServerReflectionInfo(iter([alpha_request]), timeout=10)))
        alpha_services = {s.name for s in alpha_answer.list_services_response.service}
        if alpha_services != services:
            fail("v1alpha lists %s, v1 %s" % (sorted(alpha_services), sorted(services)))

        # 2. Descriptors for Inspect (and whatever its file depends on), into a fresh pool.
        pool = descriptor_pool.DescriptorPool()
        pending = [ask(file_containing_symbol="reactord.v1.Inspect")]
        files = {}
        while pending:
            answer = pending.pop()
            for raw in answer.file_descriptor_response.file_descriptor_proto:
                fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
                files.setdefault(fd.name, fd)
                for dep in fd.dependency:
                    if dep not in files:
                        pending.append(ask(file_by_filename=dep))
        added = set()

        def add(name):
            if name in added:
                return
            for dep in files[name].dependency:
                add(dep)
            pool.Add(files[name])
            added.add(name)

        for name in list(files):
            add(name)
        service = pool.FindServiceByName("reactord.v1.Inspect")
        factory = message_factory.MessageFactory(pool)

        def call(method_name, **fields):
            method = service.FindMethodByName(method_name)
            request_class = factory.GetPrototype(method.input_type)
            response_class = factory.GetPrototype(method.output_type)
            stub = channel.unary_unary("/reactord.v1.Inspect/" + method_name,
                                       request_serializer=request_class.SerializeToString,
                                       response_deserializer=response_class.FromString)
            return stub(request_class(**fields), timeout=10)

        info = call("GetServerInfo")
        if info.pid != proc.pid:
            fail("GetServerInfo pid %d, expected %d" % (info.pid, proc.pid))
        if len(info.listen_addresses) < 1 or not info.listen_addresses[0].startswith("127.0.0.1:"):
            fail("GetServerInfo listen_addresses %s" % list(info.listen_addresses))
        data = info.listen_addresses[0]
        state_name = info.DESCRIPTOR.fields_by_name["state"].enum_type.values_by_number[info.state].name
        if state_name != "SERVER_STATE_SERVING":
            fail("state " + state_name)

        # 3. A raw TCP client shows up in ListConnections with its own address.
        host, port = data.split(":")
        client = socket.create_connection((host, int(port)), timeout=5)
        greeting = b""
        while not greeting.endswith(b"\n"):
            chunk = client.recv(64)
            if not chunk:
                break
            greeting += chunk
        if greeting != b"Hello, World!\n":
            fail("greeting %r" % greeting)
        client.sendall(b"abc\n")
        echo = b""
        while len(echo) < 4:
            echo += client.recv(64)
        peer = "%s:%d" % client.getsockname()
        listed = call("ListConnections")
        peers = [c.peer_address for c in listed.connections]
        if peer not in peers:
            fail("ListConnections %s lacks %s" % (peers, peer))
        mine = [c for c in listed.connections if c.peer_address == peer][0]
        if mine.bytes_in != 4 or mine.bytes_out != 18:
            fail("counters in=%d out=%d" % (mine.bytes_in, mine.bytes_out))
        client.close()

        # 4. The standard health check.
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", "reactord.v1.Inspect", "reactord.v1.Control"):
            status = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=10).status
            if status != health_pb2.HealthCheckResponse.SERVING:
                fail("health %r: %d" % (name, status))
        try:
            health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
            fail("health of an unknown service should be NOT_FOUND")
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                fail("unknown service: %s" % e.code())
        channel.close()

        # 5. SIGTERM: drain with no client left, exit 0.
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=15)
        proc = None
        if code != 0:
            fail("reactord exited %d after SIGTERM" % code)
        print("OK: reflection found %d services; GetServerInfo pid %d; ListConnections saw %s"
              % (len(services), info.pid, peer))
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
