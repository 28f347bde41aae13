import XCTest
@testable import Core

final class ResourceCalicoTests: XCTestCase {
    private func decode<T: KubeResource>(_ type: T.Type, _ s: String) throws -> T { try T.decode(from: Data(s.utf8)) }

    func testGlobalNetworkPolicyRulesPortsAndProtocols() throws {
        let gnp = try decode(GlobalNetworkPolicy.self, """
        {"apiVersion":"crd.projectcalico.org/v1","kind":"GlobalNetworkPolicy","metadata":{"name":"p1"},
         "spec":{"order":100.5,"selector":"role == 'db'","types":["Ingress","Egress"],"doNotTrack":false,"applyOnForward":true,
                 "namespaceSelector":"has(prod)","futureSpecField":"kept",
                 "ingress":[{"action":"Allow","ipVersion":4,"protocol":"TCP","notProtocol":17,
                             "icmp":{"type":8,"code":0},"notICMP":{"type":3},
                             "source":{"nets":["10.0.0.0/8"],"notNets":["10.1.0.0/16"],"selector":"app == 'web'",
                                       "notSelector":"bad == 'x'","namespaceSelector":"all()","notPorts":["9000:9100"],
                                       "serviceAccounts":{"names":["web"],"selector":"x == 'y'"}},
                             "destination":{"ports":[80,"443","8000:8080","http"]}}],
                 "egress":[{"action":"Deny","protocol":6}]}}
        """)
        let s = gnp.spec
        XCTAssertEqual(s.order, 100.5)
        XCTAssertEqual(s.applyOnForward, true)
        XCTAssertEqual(s.doNotTrack, false)
        XCTAssertEqual(s.namespaceSelector, "has(prod)")
        let r = try XCTUnwrap(s.ingress?.first)
        XCTAssertEqual(r.action, "Allow")
        XCTAssertEqual(r.ipVersion, 4)
        XCTAssertEqual(r.protocol, .string("TCP"))
        XCTAssertEqual(r.notProtocol, .int(17))
        XCTAssertEqual(r.icmp, .init(type: 8, code: 0))
        XCTAssertEqual(r.notICMP?.type, 3)
        XCTAssertEqual(r.source?.notNets, ["10.1.0.0/16"])
        XCTAssertEqual(r.source?.notPorts, [.range(9000, 9100)])
        XCTAssertEqual(r.source?.serviceAccounts, .init(names: ["web"], selector: "x == 'y'"))
        XCTAssertEqual(r.destination?.ports, [.number(80), .number(443), .range(8000, 8080), .named("http")])
        XCTAssertEqual(s.egress?.first?.protocol, .int(6))
        let out = try gnp.encodedForWrite()
        XCTAssertEqual(out["spec"]?["futureSpecField"], .string("kept"))
        XCTAssertEqual(out["spec"]?["ingress"]?.arrayValue?.first?["destination"]?["ports"],
                       .array([.int(80), .int(443), .string("8000:8080"), .string("http")]))
    }

    func testBadPortIsADecodeErrorNotACrash() {
        for bad in [#""9:1""#, #""a:b""#, "70000", #""""#, #""1:2:3""#] {
            XCTAssertThrowsError(try decode(CalicoNetworkPolicy.self,
                #"{"metadata":{"name":"p","namespace":"n"},"spec":{"ingress":[{"action":"Allow","source":{"ports":[\#(bad)]}}]}}"#), bad)
        }
        XCTAssertEqual(CalicoPort(parsing: "0:65535"), .range(0, 65535))
    }

    func testIPAMBlockKeepsNullAllocationsAndAttributes() throws {
        let block = try decode(IPAMBlock.self, """
        {"metadata":{"name":"192-168-0-0-30"},
         "spec":{"cidr":"192.168.0.0/30","affinity":"host:n1","strictAffinity":false,
                 "allocations":[0,null,1,null],"unallocated":[1,3],
                 "attributes":[{"handle_id":"k8s-pod-network.abc","secondary":{"namespace":"prod","pod":"web","node":"n1"}},
                               {"handle_id":"ipip-tunnel-addr-n1","secondary":{"node":"n1","type":"ipipTunnelAddress"}}],
                 "sequenceNumber":7,"sequenceNumberForAllocation":{"0":5,"2":6}}}
        """)
        XCTAssertEqual(block.spec.allocations, [0, nil, 1, nil])
        XCTAssertEqual(block.spec.unallocated, [1, 3])
        XCTAssertEqual(block.spec.attributes.first?.handleID, "k8s-pod-network.abc")
        XCTAssertEqual(block.spec.attributes.last?.secondary?["type"], "ipipTunnelAddress")
        XCTAssertEqual(block.spec.sequenceNumber, 7)
        XCTAssertEqual(block.spec.sequenceNumberForAllocation?["2"], 6)
        XCTAssertNil(block.spec.deleted)

        var changed = block
        changed.spec.allocations[1] = 2
        changed.spec.unallocated = [3]
        changed.spec.attributes.append(.init(handleID: "h3"))
        let out = try changed.encodedForWrite()
        XCTAssertEqual(out["spec"]?["allocations"], .array([.int(0), .int(2), .int(1), .null]))
        XCTAssertEqual(out["spec"]?["attributes"]?.arrayValue?.last?["handle_id"], .string("h3"))
        XCTAssertEqual(out["kind"], .string("IPAMBlock"))
        XCTAssertEqual(out["apiVersion"], .string("crd.projectcalico.org/v1"))
        XCTAssertEqual(try IPAMBlock.decode(from: out).spec, changed.spec, "round trip")

        var released = block
        released.spec.affinity = nil
        let releasedOut = try released.encodedForWrite()
        XCTAssertEqual(releasedOut["spec"]?["affinity"], .null, "a cleared affinity must not survive from raw")
        XCTAssertNil(try IPAMBlock.decode(from: releasedOut).spec.affinity)
    }

    func testBlockAffinityAndHandle() throws {
        let aff = try decode(BlockAffinity.self,
            #"{"metadata":{"name":"n1-192-168-0-0-26"},"spec":{"state":"confirmed","node":"n1","cidr":"192.168.0.0/26","deleted":"false"}}"#)
        XCTAssertEqual(aff.spec.state, "confirmed")
        XCTAssertFalse(aff.spec.isDeleted)
        XCTAssertEqual(try BlockAffinity(metadata: ObjectMeta(name: "x"), spec: .init(state: "pending", node: "n", cidr: "c", deleted: true))
            .encodedForWrite()["spec"]?["deleted"], .string("true"))

        let handle = try decode(IPAMHandle.self,
            #"{"metadata":{"name":"k8s-pod-network.abc"},"spec":{"handleID":"k8s-pod-network.abc","block":{"192.168.0.0/26":1},"deleted":false}}"#)
        XCTAssertEqual(handle.spec.block, ["192.168.0.0/26": 1])
        XCTAssertEqual(handle.spec.deleted, false)
    }

    func testPoolsBGPFelixAndClusterInformation() throws {
        let pool = try decode(IPPool.self, """
        {"metadata":{"name":"default-ipv4-ippool"},"spec":{"cidr":"192.168.0.0/16","blockSize":26,"ipipMode":"Always",
         "vxlanMode":"Never","natOutgoing":true,"nodeSelector":"all()","allowedUses":["Workload","Tunnel"]}}
        """)
        XCTAssertEqual(pool.spec, IPPoolSpec(cidr: "192.168.0.0/16", vxlanMode: "Never", ipipMode: "Always", natOutgoing: true,
                                             blockSize: 26, nodeSelector: "all()", allowedUses: ["Workload", "Tunnel"]))

        let bgp = try decode(BGPConfiguration.self, """
        {"metadata":{"name":"default"},"spec":{"nodeToNodeMeshEnabled":false,"asNumber":63400,"listenPort":179,
         "serviceClusterIPs":[{"cidr":"10.96.0.0/12"}],"communities":[{"name":"c1","value":"64512:100"}],
         "prefixAdvertisements":[{"cidr":"10.0.0.0/8","communities":["c1","64512:200"]}],
         "nodeMeshPassword":{"secretKeyRef":{"name":"bgp","key":"pw"}}}}
        """)
        XCTAssertEqual(bgp.spec.nodeToNodeMeshEnabled, false)
        XCTAssertEqual(bgp.spec.asNumber, 63400)
        XCTAssertEqual(bgp.spec.serviceClusterIPs?.first?.cidr, "10.96.0.0/12")
        XCTAssertEqual(bgp.spec.prefixAdvertisements?.first?.communities, ["c1", "64512:200"])
        XCTAssertEqual(bgp.spec.nodeMeshPassword?.secretKeyRef, .init(name: "bgp", key: "pw"))

        let peer = try decode(BGPPeer.self, """
        {"metadata":{"name":"rr"},"spec":{"nodeSelector":"!has(rr)","peerSelector":"has(rr)","keepOriginalNextHop":true,
         "peerIP":"10.0.0.9:1790","asNumber":64513,"password":{"secretKeyRef":{"name":"s","key":"k"}}}}
        """)
        XCTAssertEqual(peer.spec.peerSelector, "has(rr)")
        XCTAssertEqual(peer.spec.peerIP, "10.0.0.9:1790")
        XCTAssertEqual(peer.spec.password?.secretKeyRef?.key, "k")

        let felix = try decode(FelixConfiguration.self, """
        {"metadata":{"name":"default"},"spec":{"logSeverityScreen":"Info","healthPort":9099,"bpfEnabled":false,
         "failsafeInboundHostPorts":[{"protocol":"tcp","port":22}],"someNewSetting":"x"}}
        """)
        XCTAssertEqual(felix.spec.healthPort, 9099)
        XCTAssertEqual(felix.spec.failsafeInboundHostPorts, [.init(protocol: "tcp", port: 22)])
        XCTAssertEqual(felix.setting("someNewSetting"), .string("x"))

        let info = try decode(ClusterInformation.self,
            #"{"metadata":{"name":"default"},"spec":{"clusterGUID":"g","clusterType":"k8s,bgp,kdd","calicoVersion":"v3.29","datastoreReady":true}}"#)
        XCTAssertEqual(info.spec.datastoreReady, true)
        XCTAssertEqual(info.spec.clusterType, "k8s,bgp,kdd")
    }

    func testSetsAndHostEndpoints() throws {
        let ns = try decode(NetworkSet.self, #"{"metadata":{"name":"ext","namespace":"prod","labels":{"role":"ext"}},"spec":{"nets":["1.2.3.0/24"]}}"#)
        XCTAssertEqual(ns.spec.nets, ["1.2.3.0/24"])
        XCTAssertEqual(NetworkSet.resource, .networkSet)
        XCTAssertEqual(GlobalNetworkSet.resource, .globalNetworkSet)
        let hep = try decode(HostEndpoint.self, """
        {"metadata":{"name":"n1-eth0"},"spec":{"node":"n1","interfaceName":"eth0","expectedIPs":["10.0.0.1"],
         "profiles":["p"],"ports":[{"name":"ssh","protocol":"TCP","port":22}]}}
        """)
        XCTAssertEqual(hep.spec.ports?.first, .init(name: "ssh", protocol: .string("TCP"), port: 22))
        XCTAssertEqual(hep.spec.interfaceName, "eth0")
    }

    func testEveryKindHasATypedModel() {
        let typed: [ResourceKind] = [
            Pod.resource, Namespace.resource, K8sNode.resource, ServiceAccount.resource, Secret.resource,
            K8sNetworkPolicy.resource, BGPConfiguration.resource, BGPPeer.resource, IPPool.resource,
            FelixConfiguration.resource, CalicoNetworkPolicy.resource, GlobalNetworkPolicy.resource,
            NetworkSet.resource, GlobalNetworkSet.resource, HostEndpoint.resource, IPAMBlock.resource,
            BlockAffinity.resource, IPAMHandle.resource, ClusterInformation.resource,
        ]
        XCTAssertEqual(Set(typed), Set(ResourceKind.all))
    }
}
