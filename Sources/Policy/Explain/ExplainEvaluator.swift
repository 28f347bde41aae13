import Core

/// Which policy and rule decide a flow, walked in the order felix's dispatch chains run them for
/// one endpoint (RulesetRenderer.dispatch): the egress chain of the source's node for the source, then
/// the ingress chain of the destination's node for the destination. In each, the tiers of the
/// calculated plan in order, each tier's policies in order; the first matching rule acts (Log
/// goes on, Pass skips the rest of the tier); a tier whose policies neither allowed nor passed
/// denies; with no policy, or after every tier passed, the profiles decide in order; nothing
/// allowed it: denied. The endpoint's own chain then acts on that outcome (`endpointChain`). The
/// reverse-path check in prerouting never applies here, a flow's addresses being its endpoints'
/// own (their routes lead back through their interfaces). Pure: the
/// states are `DataplaneState`s the calculator computed.
public enum ExplainEvaluator {
    public static func explain(_ flow: ExplainFlow, sourceNode: String, sourceState: DataplaneState,
                               destinationNode: String, destinationState: DataplaneState) throws(ExplainError) -> ExplainResult {
        guard let from = plan(flow.source, in: sourceState) else { throw .noEndpoint(flow.source, node: sourceNode) }
        guard let to = plan(flow.destination, in: destinationState) else { throw .noEndpoint(flow.destination, node: destinationNode) }
        return ExplainResult(egress: direction(.egress, plan: from, node: sourceNode, state: sourceState, flow: flow),
                             ingress: direction(.ingress, plan: to, node: destinationNode, state: destinationState, flow: flow))
    }

    static func plan(_ key: String, in state: DataplaneState) -> EndpointPlan? {
        state.endpoints.values.first { $0.key == key }
    }

    static func direction(_ direction: ExplainDirection.Direction, plan: EndpointPlan, node: String, state: DataplaneState,
                          flow: ExplainFlow) -> ExplainDirection {
        let ingress = direction == .ingress
        let dir = ingress ? "ingress" : "egress"
        var trace: [ExplainStep] = []
        func done(_ allowed: Bool, _ step: ExplainStep) -> ExplainDirection {
            trace.append(step)
            return ExplainDirection(direction: direction, endpoint: plan.key, node: node, allowed: allowed, decidedBy: step, trace: trace)
        }

        let tiers = ingress ? plan.ingress : plan.egress
        if tiers.isEmpty {
            trace.append(ExplainStep(kind: .noPolicy, text: "no policy selects \(plan.key) for \(dir): its profiles decide"))
        }
        for tier in tiers {
            var passed = false
            for key in tier.policies {
                let name = key.description
                if passed {
                    trace.append(ExplainStep(kind: .policySkipped, tier: tier.name, policy: name,
                                             text: "policy \(name) skipped: an earlier policy of tier \(tier.name) passed"))
                    continue
                }
                guard let policy = state.policies[key] else { continue }
                var matchedAny = false
                ruleLoop: for (i, rule) in (ingress ? policy.ingress : policy.egress).enumerated() {
                    let at = "policy \(name) \(dir) rule \(i) (\(rule.action.rawValue))"
                    func step(_ text: String) -> ExplainStep {
                        ExplainStep(kind: .policyRule, tier: tier.name, policy: name, rule: i, action: rule.action.rawValue, text: "\(at) \(text)")
                    }
                    switch ExplainRuleMatch.evaluate(rule, flow, ipSets: state.ipSets, ipv6: state.config.ipv6) {
                    case .no:
                        continue
                    case .unknown:
                        trace.append(ExplainStep(kind: .note, tier: tier.name, policy: name, rule: i, action: rule.action.rawValue,
                                                 text: "\(at) matches on source ports; no source port given, counted as not matching"))
                        continue
                    case .yes:
                        matchedAny = true
                        switch rule.action {
                        case .allow: return done(true, step("allows"))
                        case .deny: return done(false, step("denies"))
                        case .log: trace.append(step("logs and goes on"))
                        case .pass:
                            trace.append(step("passes to the next tier"))
                            passed = true
                            break ruleLoop
                        }
                    }
                }
                if !passed {
                    trace.append(ExplainStep(kind: .policyNoMatch, tier: tier.name, policy: name,
                                             text: "policy \(name) selects \(plan.key) but \(matchedAny ? "only Log rules match" : "no \(dir) rule matches")"))
                }
            }
            if !passed {
                let names = tier.policies.map(\.description).joined(separator: ", ")
                return done(false, ExplainStep(kind: .endOfTier, tier: tier.name, policy: names,
                                               text: "end of tier \(tier.name): no policy (\(names)) allowed or passed it: denied"))
            }
        }

        for name in plan.profiles {
            guard let profile = state.profiles[name] else { continue }
            var matched = false
            for (i, rule) in (ingress ? profile.ingress : profile.egress).enumerated() {
                let at = "profile \(name) \(dir) rule \(i) (\(rule.action.rawValue))"
                func step(_ text: String) -> ExplainStep {
                    ExplainStep(kind: .profileRule, profile: name, rule: i, action: rule.action.rawValue, text: "\(at) \(text)")
                }
                let outcome = ExplainRuleMatch.evaluate(rule, flow, ipSets: state.ipSets, ipv6: state.config.ipv6)
                if outcome == .unknown {
                    trace.append(ExplainStep(kind: .note, profile: name, rule: i, action: rule.action.rawValue,
                                             text: "\(at) matches on source ports; no source port given, counted as not matching"))
                }
                guard outcome == .yes else { continue }
                switch rule.action {
                case .allow: return done(true, step("allows"))
                case .deny: return done(false, step("denies"))
                case .log: trace.append(step("logs and goes on"))
                case .pass: matched = true
                }
                if matched {
                    // A profile's Pass returns to the endpoint chain, which goes on with the next profile.
                    trace.append(step("passes to the next profile"))
                    break
                }
            }
            if !matched { trace.append(ExplainStep(kind: .profileNoMatch, profile: name, text: "profile \(name): no \(dir) rule matches")) }
        }
        return done(false, ExplainStep(kind: .noProfileMatch,
                                       text: plan.profiles.isEmpty ? "no policy and no profile allowed it"
                                                                   : "no profile (\(plan.profiles.joined(separator: ", "))) allowed it"))
    }
}
