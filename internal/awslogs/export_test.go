package awslogs

// ParseJSON parses an already inflated JSON document into p without
// validating it, so the benchmarks can time the parser alone.
func (d *Decoder) ParseJSON(raw []byte, p *Payload) error {
	if err := d.p.parse(raw, d.Limits.orDefault()); err != nil {
		return err
	}
	d.p.fill(p, string(d.p.arena))
	return nil
}
